"""Turn `--sweep NODE.INPUT=SPEC` options into the list of jobs a batch runs.

A SPEC is `a,b,c` (a list), `lo..hi` (integers, both ends included) or `@file` (one value per
line). Several sweeps make a cartesian product (the first sweep varies slowest); `zip=True` pairs
them instead. `repeat` runs every point N times, adding the repeat index to each unlinked seed,
exactly as `nodeflow run --repeat` always did.

Every value is checked through the graph's own parameter rules before any job runs, so a typo in
the 40th value of a sweep is one error line naming node and input, not a failure an hour later.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodeflow.core import workflow
from nodeflow.core.errors import GraphEditError, NodeFlowError
from nodeflow.core.graph import Graph
from nodeflow.core.seeds import seed_inputs, seed_value, step_seed

_RANGE = re.compile(r"\s*(\S+?)\s*\.\.\s*(\S+?)\s*")
_INT = re.compile(r"[+-]?\d+")


class SweepError(NodeFlowError):
    """A sweep option that cannot be expanded: the message is one line that quotes the option."""


@dataclass(frozen=True)
class Sweep:
    """One `--sweep` option: a parameter and the raw values it takes (checked later on a graph)."""

    node_id: str
    input: str
    values: tuple[str, ...]
    option: str

    @property
    def target(self) -> str:
        return f"{self.node_id}.{self.input}"


@dataclass(frozen=True)
class JobSpec:
    """What one job changes on the batch's workflow: {"NODE.INPUT": value}, values already converted."""

    workflow_index: int
    overrides: dict[str, Any]


def parse_sweep(option: str, base_dir: Path | None = None) -> Sweep:
    """Parse `NODE.INPUT=SPEC`; raise SweepError with one line quoting the option if it is malformed."""
    target, sep, spec = option.partition("=")
    node_id, dot, name = target.strip().partition(".")
    if not sep or not dot or not node_id.strip() or not name.strip():
        raise SweepError(f"--sweep wants NODE.INPUT=SPEC (a,b,c or lo..hi or @file), got '{option}'")
    return Sweep(node_id.strip(), name.strip(), _values(spec, option, base_dir), option)


def _values(spec: str, option: str, base_dir: Path | None) -> tuple[str, ...]:
    if spec.startswith("@"):
        path = Path(spec[1:]).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a UTF-8 text file"
            raise SweepError(f"--sweep {option}: cannot read {path}: {reason}") from None
        values = tuple(line for line in (raw.rstrip("\r") for raw in lines) if line.strip())
        if not values:
            raise SweepError(f"--sweep {option}: {path} holds no values (one value per line)")
        return values
    if "," not in spec:
        match = _RANGE.fullmatch(spec)
        if match:
            return _range(match.group(1), match.group(2), option)
    values = tuple(part.strip() for part in spec.split(","))
    if not spec.strip() or any(v == "" for v in values):
        raise SweepError(f"--sweep {option}: empty value in the list (write a,b,c)")
    return values


def _range(low: str, high: str, option: str) -> tuple[str, ...]:
    if not (_INT.fullmatch(low) and _INT.fullmatch(high)):
        raise SweepError(f"--sweep {option}: a range takes integers (lo..hi, both included)")
    lo, hi = int(low), int(high)
    if lo > hi:
        raise SweepError(f"--sweep {option}: the range is empty ({lo} is above {hi})")
    if hi - lo >= 1_000_000:
        raise SweepError(f"--sweep {option}: {hi - lo + 1} values is more than a batch can hold")
    return tuple(str(v) for v in range(lo, hi + 1))


def expand(graphs: list[Graph], sweeps: list[Sweep], *, zip_sweeps: bool = False, repeat: int = 1,
           fixed: tuple[str, ...] = ()) -> list[JobSpec]:
    """Every job of the batch, in run order: per workflow, per sweep point, per repeat.

    `fixed` names the `--set` targets, which a sweep may not also vary. Raises SweepError or
    GraphEditError (naming node and input) for anything that cannot run.
    """
    if repeat < 1:
        raise SweepError(f"--repeat wants a count of at least 1, got {repeat}")
    seen: set[str] = set()
    for sweep in sweeps:
        if sweep.target in seen:
            raise SweepError(f"--sweep {sweep.option}: {sweep.target} is swept twice")
        if sweep.target in fixed:
            raise SweepError(f"--sweep {sweep.option}: {sweep.target} is also fixed by --set")
        seen.add(sweep.target)
    if zip_sweeps and len({len(s.values) for s in sweeps}) > 1:
        sizes = ", ".join(f"{s.target} has {len(s.values)}" for s in sweeps)
        raise SweepError(f"--zip pairs values one to one, but the sweeps differ in length ({sizes})")
    columns = [s.values for s in sweeps]
    points = list(zip(*columns)) if zip_sweeps else list(itertools.product(*columns))
    jobs: list[JobSpec] = []
    for index, graph in enumerate(graphs):
        converted = [_checked(graph, s) for s in sweeps]
        seeds = seed_inputs(graph)
        for point in points:
            base = {s.target: converted[i][raw] for i, (s, raw) in enumerate(zip(sweeps, point))}
            for r in range(repeat):
                overrides = dict(base)
                if r:
                    for node_id, name in seeds:
                        target = f"{node_id}.{name}"
                        start = overrides.get(target, seed_value(graph, node_id, name))
                        overrides[target] = _checked_value(graph, node_id, name, step_seed(start, r))
                jobs.append(JobSpec(index, overrides))
    return jobs


def _checked(graph: Graph, sweep: Sweep) -> dict[str, Any]:
    """{raw value: converted value} for one sweep, each checked by the graph's parameter rules."""
    return {raw: _checked_value(graph, sweep.node_id, sweep.input, raw) for raw in dict.fromkeys(sweep.values)}


def _checked_value(graph: Graph, node_id: str, name: str, value: Any) -> Any:
    """The graph's own parameter check (one rule), after the one a sweep adds: no linked inputs."""
    graph.node(node_id)  # GraphEditError "node X: no such node"
    if graph.link_into(node_id, name) is not None:
        raise GraphEditError("is linked; a sweep sets unlinked parameters only", node_id, name)
    return graph.check_value(node_id, name, value)


def apply(graph: Graph, overrides: dict[str, Any]) -> Graph:
    """A copy of `graph` with a job's overrides set (the original stays the batch's snapshot)."""
    copy, _ = workflow.from_data(workflow.to_data(graph), graph.registry)
    for target, value in overrides.items():
        node_id, name = target.split(".", 1)
        copy.set_param(node_id, name, value)
    return copy
