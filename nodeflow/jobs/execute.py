"""Run one job and hand back its files as bytes: the one code path of local and Ray workers.

A job's nodes save into a private scratch folder, never into the batch's output folder: the
driver alone names and writes the final files (atomically, see `outputs`), so a job killed half
way leaves nothing behind in `--out`, and a job run on another machine yields the same files.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from nodeflow.core import workflow
from nodeflow.core.context import CancelToken
from nodeflow.core.errors import ValidationError
from nodeflow.core.files import SAVED_PATH_INFO
from nodeflow.engine.events import NodeFailed, NodeFinished, NodeImages
from nodeflow.jobs.sweep import apply

#: The private folder a job's nodes save into (under the system temp folder) starts with this.
SCRATCH_PREFIX = "nodeflow-job-"


def scratch_root() -> str:
    """How every job's scratch folder path starts: a node's message naming it speaks of a file the
    driver writes under another name (watchers hide it and name the final file instead)."""
    return str(Path(tempfile.gettempdir()) / SCRATCH_PREFIX)


@dataclass
class Outcome:
    """What a job produced: status "done", "failed" or "cancelled", files {relative path: bytes}.

    `node_files` says which node saved which of the images among them ({node id: [relative path]}),
    for callers that report outputs node by node (`nodeflow serve`'s history). `saved_by` says for
    every file which node wrote it and through which input it named it ({relative path: (node id,
    field)}), so a file the driver cannot write (a full disk) is reported at its node and field.
    `manifest` is what the run ran with (versions, model hashes), for the editor to record in the
    workflow the job was queued from.
    """

    status: str
    files: dict[str, bytes] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0
    worker: str = ""
    node_files: dict[str, list[str]] = field(default_factory=dict)
    saved_by: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def run_job(executor, workflow_text: str, overrides: dict[str, Any], workflow_dir: str | None,
            cancel: CancelToken | None = None, announce=None) -> Outcome:
    """Run a workflow snapshot with a job's overrides on `executor`; never raises for a job's own failure.

    `announce(graph)` is called with the graph about to run (the CLI points its progress bars at it).
    """
    started = time.perf_counter()
    try:
        base, _ = workflow.loads(workflow_text, executor.registry)
        graph = apply(base, overrides)
    except Exception as exc:  # a snapshot from another version: report it as this job's failure
        return Outcome("failed", error=f"cannot load the job's workflow: {exc}")
    if announce is not None:
        announce(graph)
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as scratch:
        node_files: dict[str, list[str]] = {}
        saved_by: dict[str, tuple[str, str | None]] = {}
        savers = _prefix_fields(graph, executor.registry)
        unsubscribe = executor.subscribe(partial(_note_saved, Path(scratch), node_files, savers, saved_by))
        try:
            result = executor.run(graph, cancel=cancel, output_dir=Path(scratch),
                                  workflow_dir=Path(workflow_dir) if workflow_dir else None)
        except ValidationError as exc:
            return Outcome("failed", error="; ".join(str(p) for p in exc.problems),
                           seconds=time.perf_counter() - started)
        finally:
            unsubscribe()
        files = {path.relative_to(scratch).as_posix(): path.read_bytes()
                 for path in sorted(Path(scratch).rglob("*")) if path.is_file()}
    seconds = time.perf_counter() - started
    if result.cancelled:
        return Outcome("cancelled", error="cancelled", seconds=seconds)
    if not result.ok:
        return Outcome("failed", files, "; ".join(result.errors.values()), seconds, node_files=node_files,
                       saved_by=saved_by, manifest=result.manifest)
    return Outcome("done", files, "", seconds, node_files=node_files, saved_by=saved_by, manifest=result.manifest)


def _prefix_fields(graph, registry) -> dict[str, str]:
    """{node id: its input that names the files it saves (`Input.output_prefix`)} for every saver,
    inner nodes of subgraph instances included (they run under `<instance>:<inner>` ids)."""
    from nodeflow.core.subgraphs.expand import expand

    found = {}
    for node_id, record in expand(graph)[0].nodes.items():
        cls = registry.get(record.type)
        prefix = next((i.name for i in cls.inputs if i.output_prefix), None) if cls is not None else None
        if prefix is not None:
            found[node_id] = prefix
    return found


def _note_saved(scratch: Path, node_files: dict[str, list[str]], savers: dict[str, str],
                saved_by: dict[str, tuple[str, str | None]], event) -> None:
    """Record which node saved which image (Save Image marks each picture with its file's path), and
    which saver wrote each file of the scratch folder (the new ones when a saver ends)."""
    if isinstance(event, (NodeFinished, NodeFailed)) and event.node_id in savers:
        for path in sorted(scratch.rglob("*")):
            relative = path.relative_to(scratch).as_posix()
            if path.is_file() and relative not in saved_by:
                saved_by[relative] = (event.node_id, savers[event.node_id])
    if isinstance(event, NodeImages):
        for image in event.images:
            saved = getattr(image, "info", {}).get(SAVED_PATH_INFO)
            if saved and Path(saved).is_relative_to(scratch):
                node_files.setdefault(event.node_id, []).append(Path(saved).relative_to(scratch).as_posix())
