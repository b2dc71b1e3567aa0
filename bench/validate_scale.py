"""Does validation stay linear? 200,000 nodes must validate in under 3 CPU seconds.

Builds a workflow of small independent pipelines (Integer -> Math -> Format Text -> Show Value, and
Float -> Math, five nodes and four links each), loads it from its JSON text (schema, migrations)
and validates it the way `nodeflow validate` does, output rule and memory estimate included. The
reference is the same workflow at a tenth of the size, timed in the same run: linear checking
takes about 10x as long for 10x the nodes (a quadratic step would take about 100x).

`--shape reroutes` times one chain of reroutes instead (validation once walked the whole chain
back for every reroute in it: quadratic).

Times are CPU seconds of this process (`time.process_time`), which is what the check costs on an
idle core; wall-clock seconds are printed beside them, since on a shared machine they also count
the time other processes held the cores. Run: `python bench/validate_scale.py [--nodes N]`.
Exits 1 if the limit is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_S = 3.0


def workflow_text(nodes: int) -> str:
    """JSON for `nodes` nodes (rounded down to whole 5-node pipelines)."""
    items, links = [], []
    for start in range(1, nodes - 3, 5):
        i, f, m, fmt, show = (str(start + k) for k in range(5))
        items += [{"id": i, "type": "basic.int", "params": {"value": start}, "pos": [start, 0]},
                  {"id": f, "type": "basic.float", "params": {"value": 0.5}},
                  {"id": m, "type": "basic.math", "params": {"operation": "multiply"}},
                  {"id": fmt, "type": "basic.format_text", "params": {"template": "{a:.2f}"}},
                  {"id": show, "type": "basic.show"}]
        links += [{"from": [i, "value"], "to": [m, "a"]}, {"from": [f, "value"], "to": [m, "b"]},
                  {"from": [m, "result"], "to": [fmt, "a"]}, {"from": [fmt, "text"], "to": [show, "value"]}]
    return json.dumps({"format": "nodeflow-workflow", "version": 1, "nodes": items, "links": links})


def reroute_chain_text(nodes: int) -> str:
    """JSON for one Text node feeding a chain of `nodes - 2` reroutes into a Show Value: each
    reroute's type is looked up through all those before it (the probe's quadratic case)."""
    items = [{"id": "1", "type": "basic.text", "params": {"text": "x"}}]
    links, previous, output = [], "1", "text"
    for i in range(2, nodes):
        items.append({"id": str(i), "type": "basic.reroute"})
        links.append({"from": [previous, output], "to": [str(i), "value"]})
        previous, output = str(i), "value"
    items.append({"id": str(nodes), "type": "basic.show"})
    links.append({"from": [previous, output], "to": [str(nodes), "value"]})
    return json.dumps({"format": "nodeflow-workflow", "version": 1, "nodes": items, "links": links})


SHAPES = {"pipelines": workflow_text, "reroutes": reroute_chain_text}


def time_validation(nodes: int, out: Path, shape: str = "pipelines") -> tuple[float, float, float, int]:
    """(CPU s to load, CPU s to validate, wall s to validate, node count) for about `nodes` nodes."""
    from nodeflow.core import default_registry, workflow
    from nodeflow.engine.plan import validate

    text = SHAPES[shape](nodes)
    started = time.process_time()
    graph, _ = workflow.loads(text, default_registry())
    loaded, wall = time.process_time(), time.perf_counter()
    problems = validate(graph, output_dir=out)
    checked, wall = time.process_time(), time.perf_counter() - wall
    if problems:
        raise SystemExit(f"the benchmark workflow is invalid: {problems[0]}")
    return loaded - started, checked - loaded, wall, len(graph.nodes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="pipelines",
                        help="independent 5-node pipelines, or one chain of reroutes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        time_validation(1_000, out, args.shape)  # warm-up: imports, schema compilation, registry
        ref_load, ref_check, _, ref_n = time_validation(args.nodes // 10, out, args.shape)
        load, check, wall, n = time_validation(args.nodes, out, args.shape)
    ratio = check / ref_check
    print(f"reference: {ref_n:,} nodes validate in {ref_check:.3f} CPU s (load {ref_load:.3f} s)")
    print(f"validate {n:,} nodes: {check:.3f} CPU s (limit {LIMIT_S:.0f} s; {wall:.3f} s wall here; "
          f"load {load:.3f} s)")
    print(f"ratio for {n / ref_n:.0f}x the nodes: {ratio:.1f}x the time (linear: ~{n / ref_n:.0f}x)")
    ok = check < LIMIT_S
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
