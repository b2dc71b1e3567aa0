"""Turn `--sweep NODE.INPUT=SPEC` options into the list of jobs a batch runs.

A SPEC is `a,b,c` (a list), `lo..hi` (integers, both ends included) or `@file` (one value per
line). Several sweeps make a cartesian product (the first sweep varies slowest); `zip=True` pairs
them instead. `repeat` runs every point N times, adding the repeat index to each unlinked seed,
exactly as `nodeflow run --repeat` always did.

Every value is checked through the graph's own parameter rules before any job runs, so a typo in
the 40th value of a sweep is one error line naming node and input, not a failure an hour later.

Everything is bounded before it is paid for: a values file is read up to MAX_VALUES_FILE bytes
(a FIFO or device is refused by its type), a range is not listed until the batch's job count
(workflows x sweep points x repeats, multiplied out first) is known to be within the job cap
(MAX_JOBS, or `--max-jobs`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from nodeflow.core import workflow
from nodeflow.core.errors import GraphEditError, NodeFlowError
from nodeflow.core.graph import Graph
from nodeflow.core.reads import ReadRefused, read_bounded
from nodeflow.core.seeds import seed_inputs, seed_value, step_seed

_RANGE = re.compile(r"\s*(\S+?)\s*\.\.\s*(\S+?)\s*")
_INT = re.compile(r"[+-]?\d+")

#: The most jobs one batch may hold unless the user raises it (`--max-jobs`).
MAX_JOBS = 10_000
#: The largest values file (`--sweep NODE.INPUT=@file`) read, in bytes.
MAX_VALUES_FILE = 16 * 2**20


class SweepError(NodeFlowError):
    """A sweep option that cannot be expanded: the message is one line that quotes the option."""


@dataclass(frozen=True)
class Sweep:
    """One `--sweep` option: a parameter and the raw values it takes (checked later on a graph)."""

    node_id: str
    input: str
    values: Sequence[str]  # a tuple, or an IntRange listed only once the batch is known to fit
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
            lines = read_bounded(path, MAX_VALUES_FILE, "values file").decode("utf-8").splitlines()
        except ReadRefused as exc:
            raise SweepError(f"--sweep {option}: {exc}") from None
        except UnicodeDecodeError:
            raise SweepError(f"--sweep {option}: cannot read {path}: not a UTF-8 text file") from None
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


class IntRange(Sequence[str]):
    """The values of `lo..hi` as text, without listing them: a range of 10^12 costs nothing until
    the job count says whether the batch may hold it."""

    def __init__(self, lo: int, hi: int):
        self._range = range(lo, hi + 1)

    def __len__(self) -> int:
        return len(self._range)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(str(v) for v in self._range[index])
        return str(self._range[index])

    def __iter__(self) -> Iterator[str]:
        return (str(v) for v in self._range)


def _range(low: str, high: str, option: str) -> IntRange:
    if not (_INT.fullmatch(low) and _INT.fullmatch(high)) or max(len(low), len(high)) > 30:
        raise SweepError(f"--sweep {option}: a range takes integers (lo..hi, both included)")
    lo, hi = int(low), int(high)
    if lo > hi:
        raise SweepError(f"--sweep {option}: the range is empty ({lo} is above {hi})")
    return IntRange(lo, hi)


def job_count(graphs: int, sweeps: list[Sweep], *, zip_sweeps: bool = False, repeat: int = 1) -> int:
    """How many jobs a batch would hold, worked out without listing them."""
    lengths = [len(s.values) for s in sweeps]
    points = (min(lengths) if zip_sweeps else math.prod(lengths)) if lengths else 1
    return graphs * points * repeat


def expand(graphs: list[Graph], sweeps: list[Sweep], *, zip_sweeps: bool = False, repeat: int = 1,
           fixed: tuple[str, ...] = (), max_jobs: int = MAX_JOBS, notes: list[str] | None = None
           ) -> list[JobSpec]:
    """Every job of the batch, in run order: per workflow, per sweep point, per repeat.

    `fixed` names the `--set` targets, which a sweep may not also vary. Raises SweepError or
    GraphEditError (naming node and input) for anything that cannot run, and SweepError for a
    batch of more than `max_jobs` jobs, counted before any is listed. A workflow with no seed to
    advance runs once however many repeats were asked (they would be identical); `notes` gets a
    line saying so.
    """
    if repeat < 1:
        raise SweepError(f"--repeat wants a count of at least 1, got {repeat}")
    count = job_count(len(graphs), sweeps, zip_sweeps=zip_sweeps, repeat=repeat)
    if count > max_jobs:
        words = _count_words(len(graphs), sweeps, zip_sweeps, repeat)
        raise SweepError(f"the batch would hold {count:,} jobs ({words}), more than the limit of {max_jobs:,}; "
                         "raise it with --max-jobs N if you mean it")
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
        repeats = repeat if seeds else 1
        if repeats < repeat and notes is not None:
            notes.append(f"--repeat {repeat}: workflow {index + 1} has no seed to advance, so its repeats would be "
                         "identical; each of its jobs runs once")
        for point in points:
            base = {s.target: converted[i][raw] for i, (s, raw) in enumerate(zip(sweeps, point))}
            for r in range(repeats):
                overrides = dict(base)
                if r:
                    for node_id, name in seeds:
                        target = f"{node_id}.{name}"
                        start = overrides.get(target, seed_value(graph, node_id, name))
                        overrides[target] = _checked_value(graph, node_id, name, step_seed(start, r))
                jobs.append(JobSpec(index, overrides))
    return jobs


def _count_words(graphs: int, sweeps: list[Sweep], zip_sweeps: bool, repeat: int) -> str:
    """'2 workflows x 1,000,000 values of 5.seed x 3 repeats': where a job count comes from."""
    parts = [f"{graphs} workflows"] if graphs > 1 else []
    if zip_sweeps and sweeps:
        parts.append(f"{min(len(s.values) for s in sweeps):,} zipped values")
    else:
        parts += [f"{len(s.values):,} values of {s.target}" for s in sweeps]
    if repeat > 1:
        parts.append(f"{repeat:,} repeats")
    return " x ".join(parts) or "1 job"


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
