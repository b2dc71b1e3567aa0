"""A batch: workflows × sweep points × repeats, checked, numbered and put in the queue.

`prepare` does everything that can fail on bad input before any model loads: it expands the
sweeps, validates every job's graph, and then reconciles three records of the batch: the output
folder's index (the truth about finished jobs), its batch marker (job numbering, and which batch
`--resume` may continue) and the queue (states, for `nodeflow queue` and the GUI).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodeflow.core import workflow
from nodeflow.core.errors import NodeFlowError, Problem
from nodeflow.core.graph import Graph
from nodeflow.engine.plan import validate
from nodeflow.jobs.outputs import BatchMarker, OutputFolder, batch_key
from nodeflow.jobs.store import Job, JobStore, NewJob
from nodeflow.jobs.sweep import MAX_JOBS, JobSpec, Sweep, apply, expand


class BatchInvalid(NodeFlowError):
    """Jobs of a batch that cannot run; one line per distinct problem, each naming its workflow.

    `problems` holds them as data (node id, input, message), for callers that answer with them
    node by node (`nodeflow serve`'s `node_errors`).
    """

    def __init__(self, message: str, problems: list[Problem] = ()):
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class Source:
    """One workflow of the batch (after `--set`)."""

    name: str
    graph: Graph
    workflow_dir: Path | None = None


@dataclass(frozen=True)
class Batch:
    id: str
    folder: OutputFolder
    marker: BatchMarker
    already_done: int  # jobs a resumed batch skips
    notes: tuple[str, ...] = ()  # what the user should know about how the batch was made


def prepare(store: JobStore, sources: list[Source], sweeps: list[Sweep], out: Path, *, zip_sweeps: bool = False,
            repeat: int = 1, fixed: tuple[str, ...] = (), resume: bool = False, device: str = "cpu",
            memory_budget: int | None = None, max_jobs: int = MAX_JOBS) -> Batch:
    """Expand, validate and queue a batch; raises SweepError, GraphEditError, BatchInvalid or ResumeError."""
    notes: list[str] = []
    specs = expand([s.graph for s in sources], sweeps, zip_sweeps=zip_sweeps, repeat=repeat, fixed=fixed,
                   max_jobs=max_jobs, notes=notes)
    _check(sources, specs, out, device, memory_budget)
    texts = [workflow.dumps(s.graph) for s in sources]
    key = batch_key([texts, [[s.workflow_index, s.overrides] for s in specs]])
    folder = OutputFolder(out)
    marker = folder.start_batch(uuid.uuid4().hex[:12], len(specs), key, resume,
                                after=store.last_number(out_dir=str(Path(out).resolve())))
    folder.repair_index()
    finished = {e["job"]: e for e in folder.entries() if e.get("status") == "done"
                and marker.first <= e["job"] < marker.first + marker.count}
    if store.has_batch(marker.batch):
        for job in store.jobs(marker.batch):
            if job.number in finished:
                entry = finished[job.number]
                store.mark_done(marker.batch, job.number, list(entry.get("files", [])), entry.get("seconds"))
            elif job.state != "running":
                store.requeue(job.id)
    else:
        store.add(marker.batch, [
            NewJob(marker.first + i, sources[spec.workflow_index].name, texts[spec.workflow_index], spec.overrides,
                   str(Path(out).resolve()), _dir(sources[spec.workflow_index].workflow_dir))
            for i, spec in enumerate(specs) if marker.first + i not in finished])
    return Batch(marker.batch, folder, marker, len(finished), tuple(notes))


def enqueue(store: JobStore, batch: str, source: Source, specs: list[JobSpec], out: Path,
            keys: list[str | None] | None = None) -> list[int]:
    """Queue jobs of one workflow into a standing batch (the editor's, the server's), numbered on in
    `out`; `keys` gives each job the caller's own unique name (see `NewJob.key`)."""
    _check([source], specs, out)
    folder, target = OutputFolder(out), str(Path(out).resolve())
    first = max(folder.last_job(), store.last_number(batch=batch, out_dir=target)) + 1
    text = workflow.dumps(source.graph)
    keys = keys or [None] * len(specs)
    return store.add(batch, [NewJob(first + i, source.name, text, spec.overrides, target, _dir(source.workflow_dir),
                                    keys[i]) for i, spec in enumerate(specs)])


def _check(sources: list[Source], specs: list[JobSpec], out: Path, device: str = "cpu",
           memory_budget: int | None = None) -> None:
    """Validate every job's graph before anything runs; one line per distinct problem."""
    problems: dict[str, Problem] = {}
    for spec in specs:
        source = sources[spec.workflow_index]
        for problem in validate(apply(source.graph, spec.overrides), source.workflow_dir, output_dir=out,
                                device=device, memory_budget=memory_budget):
            problems.setdefault(f"{source.name}: {problem}", problem)
    if problems:
        raise BatchInvalid("\n".join(problems), list(problems.values()))


def _dir(path: Path | None) -> str | None:
    return str(Path(path).resolve()) if path is not None else None


def files_key(job: Job, registry) -> tuple[Any, ...]:
    """The files a job reads (checkpoints, LoRAs, images): jobs with equal keys share loaded models.

    Runners use it to send jobs on the same checkpoint to the worker that has it loaded.
    """
    data = json.loads(job.workflow)
    key = []
    for node in data.get("nodes", []):
        cls = registry.get(node.get("type"))
        for inp in cls.inputs if cls is not None else ():
            if inp.file:
                target = f"{node['id']}.{inp.name}"
                value = job.overrides.get(target, node.get("params", {}).get(inp.name, inp.default))
                key.append((target, str(value)))
    return tuple(sorted(key))
