"""Memory under a budget, measured: peak RSS of fresh processes, and the plan's estimates.

1. Two large random checkpoints (SD 1.5-shaped, built once by bench/random_models.py) in one
   workflow, two txt2img branches: peak RSS without a budget vs with a budget that holds one of
   them (ratio; goal well under 1), and whether the pictures are the same.
2. Every shipped workflow (workflows/*.json): `nodeflow plan`'s estimated peak vs the measured
   peak RSS growth of its run (goal: within +-30%).
Each measurement runs in its own process (glibc's mmap threshold pinned, so freed weights go back
to the system); its RSS growth is counted from after the imports. Run: `python bench/memory_budget.py`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, add_node, child_environment, txt2img_chain

GB = 1000**3
ENV = child_environment(MALLOC_MMAP_THRESHOLD_="65536")


def worker(spec: dict) -> dict:
    """In a fresh process: run one workflow; RSS before the run and its peak, the plan's estimate."""
    import resource

    import psutil
    import torch

    import nodes._checkpoint  # noqa: F401  (imports diffusers/transformers before the baseline)
    import nodes._sampling  # noqa: F401
    from nodeflow.core import files
    from nodeflow.core.registry import default_registry
    from nodeflow.engine import Executor

    torch.set_num_threads(2)
    graph, _ = files.load(Path(spec["workflow"]), default_registry())
    for node_id, name, value in spec.get("sets", []):
        graph.set_param(node_id, name, value)
    executor = Executor(device="cpu", memory_budget=spec.get("budget"), previews=False)
    workflow_dir = Path(spec["workflow"]).parent
    plan = executor.memory_plan(graph, workflow_dir)
    before = psutil.Process().memory_info().rss
    result = executor.run(graph, output_dir=Path(spec["out"]), workflow_dir=workflow_dir)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if not result.ok:
        raise SystemExit(f"run failed: {result.errors}")
    import numpy as np
    from PIL import Image

    pictures = sorted(Path(spec["out"]).glob("*.png"))
    digest = [int(np.asarray(Image.open(p)).astype(np.int64).sum()) for p in pictures]
    return {"before": before, "peak": peak, "estimate": plan.peak, "pixels": digest}


def measure(spec: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], env=ENV, cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-1500:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def two_checkpoints(a: Path, b: Path, folder: Path) -> Path:
    from nodeflow.core import Graph, default_registry, workflow

    graph = Graph(default_registry())
    for index, checkpoint in enumerate((a, b)):
        _, _, decode = txt2img_chain(graph, checkpoint, size=64, steps=2, seed=1, cfg=7.0)
        add_node(graph, "image.save", {"images": (decode, "image")}, filename_prefix=f"branch{index}")
    path = folder / "two_checkpoints.json"
    path.write_text(workflow.dumps(graph))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--skip-two", action="store_true", help="only the shipped workflows")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    from random_models import build_folder, cache_dir

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if not args.skip_two:
            a = build_folder("sd15", cache_dir() / "sd15-fp16")
            b = build_folder("sd15", cache_dir() / "sd15-fp16-seed1", seed=1)
            path = two_checkpoints(a, b, scratch)
            one = sum(f.stat().st_size for f in a.rglob("*.safetensors")) * 2  # fp16 file -> fp32 in RAM
            free = measure({"workflow": str(path), "out": str(scratch / "free")})
            tight = measure({"workflow": str(path), "out": str(scratch / "tight"), "budget": int(one * 1.25)})
            grow_free, grow_tight = free["peak"] - free["before"], tight["peak"] - tight["before"]
            print(f"two SD 1.5 checkpoints ({one / GB:.1f} GB each in fp32): peak RSS growth "
                  f"{grow_free / GB:.2f} GB without a budget, {grow_tight / GB:.2f} GB with a "
                  f"{one * 1.25 / GB:.1f} GB budget: ratio {grow_tight / grow_free:.2f}; "
                  f"same pictures: {free['pixels'] == tight['pixels']}", flush=True)
            print(f"  plan estimate: {free['estimate'] / GB:.2f} GB without, {tight['estimate'] / GB:.2f} GB with "
                  f"the budget", flush=True)
        print("shipped workflows: plan estimate vs measured peak RSS growth (goal within +-30%)", flush=True)
        for path in sorted((ROOT / "workflows").glob("*.json")):
            got = measure({"workflow": str(path), "out": str(scratch / path.stem)})
            grown = got["peak"] - got["before"]
            print(f"  {path.name:<22} estimate {got['estimate'] / 1e6:8.1f} MB  measured {grown / 1e6:8.1f} MB  "
                  f"ratio {got['estimate'] / max(grown, 1):.2f}", flush=True)


if __name__ == "__main__":
    main()
