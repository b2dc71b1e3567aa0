"""Run a batch's jobs one after another in this process, on one Executor (models load once).

The runner claims jobs from the queue, so `nodeflow queue cancel ID` from another terminal stops
a job here: a watcher thread checks the job's state twice a second and trips its cancel token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nodeflow.core.context import CancelToken
from nodeflow.jobs.batch import files_key
from nodeflow.jobs.execute import Outcome, run_job
from nodeflow.jobs.outputs import OutputFolder, OutputWriteError
from nodeflow.jobs.store import Job, JobStore

#: Called after each job with the job, its outcome and the files it wrote (relative to --out).
Report = Callable[[Job, Outcome, list[str]], None]


@dataclass
class Summary:
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    jobs: list[int] = field(default_factory=list)  # job numbers in the order they finished

    def add(self, job: Job, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)
        self.jobs.append(job.number)


def commit(store: JobStore, job: Job, outcome: Outcome) -> list[str]:
    """Write a finished job's files and index line, then its queue state (the index comes first).

    Files that cannot be written (a full disk) leave the job queued again, not running for a
    process that goes on (the editor, the server): `--resume` or the next run does it whole."""
    names: list[str] = []
    if outcome.status in ("done", "failed"):
        try:
            names = OutputFolder(Path(job.out_dir)).commit(
                job.number, job.overrides, outcome.status, outcome.files, outcome.seconds, outcome.error,
                rerun=job.attempts > 1, saved_by=outcome.saved_by)
        except OutputWriteError as exc:
            store.requeue(job.id, str(exc))
            raise
    store.finish(job.id, outcome.status, names, outcome.error, outcome.seconds, outcome.worker)
    return names


def final_names(outcome: Outcome, names: list[str]) -> dict[str, str]:
    """{name in the job's scratch folder: name in --out} of a committed job's files (`commit`
    returns the written names in the order of the sorted scratch names)."""
    return dict(zip(sorted(outcome.files), names, strict=False))


class LocalRunner:
    """One process, one Executor. `group` runs jobs on the checkpoint already loaded first.

    When `cancel` trips (Ctrl+C), `cancel_rest` cancels the batch's other queued jobs too (the
    CLI's meaning); without it the interrupted job goes back to the queue (the editor closing).
    """

    def __init__(self, store: JobStore, executor, *, group: bool = True, announce=None,
                 report: Report | None = None, cancel_rest: bool = True,
                 begin: Callable[[Job], None] | None = None):
        """`begin(job)` is called when a job is claimed, before it runs (the server names it to its client)."""
        self.store, self.executor, self.group = store, executor, group
        self.announce, self.report, self.cancel_rest = announce, report, cancel_rest
        self.begin = begin

    def run(self, batch: str, cancel: CancelToken) -> Summary:
        """Run the queued jobs of `batch` until none is left, the batch is paused or `cancel` trips."""
        summary = Summary()
        last_key: tuple | None = None
        while not cancel.cancelled:
            job = self.store.claim(batch, self._same_files(last_key) if self.group else None)
            if job is None:
                break
            last_key = files_key(job, self.executor.registry)
            if self.begin is not None:
                self.begin(job)
            outcome = self._run_one(job, cancel)
            if outcome.status == "cancelled" and cancel.cancelled and not self.cancel_rest:
                self.store.requeue(job.id)
                break
            names = commit(self.store, job, outcome)
            summary.add(job, outcome.status)
            if self.report is not None:
                self.report(job, outcome, names)
        if cancel.cancelled and self.cancel_rest:
            self.store.cancel_batch(batch)
        return summary

    def _same_files(self, key: tuple | None) -> Callable[[list[Job]], Job]:
        """Pick the first queued job on the files already loaded, else the head of the queue."""
        registry = self.executor.registry
        return lambda jobs: next((j for j in jobs if files_key(j, registry) == key), jobs[0])

    def _run_one(self, job: Job, cancel: CancelToken) -> Outcome:
        token = CancelToken()
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(job.id, cancel, token, stop), daemon=True)
        watcher.start()
        try:
            outcome = run_job(self.executor, job.workflow, job.overrides, job.workflow_dir, token, self.announce)
        finally:
            stop.set()
            watcher.join()
        outcome.worker = "local"
        return outcome

    def _watch(self, job_id: int, cancel: CancelToken, token: CancelToken, stop: threading.Event) -> None:
        """Trip the job's token on Ctrl+C or when the queue says the job was cancelled."""
        while not stop.wait(0.5):
            if cancel.cancelled or self.store.state(job_id) == "cancelled":
                token.cancel()
                return
