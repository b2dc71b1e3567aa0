"""The editor's one run queue: every run of the editor is a job of the shared SQLite queue.

Run (a one-job batch), Run ×N and Sweep… all queue into the editor's batch of the job store
(`nodeflow.jobs.store`); this runner works them off one by one on a worker thread. The jobs
survive a crash of the editor (a job it was running is queued again at the next start) and
`nodeflow queue` sees them. The work itself is `nodeflow.jobs.local.LocalRunner`, the same code
`nodeflow run` uses: same files, same `index.jsonl`. Stop is the store's cancel of the running
job (as `nodeflow queue cancel ID`); the queue then goes on.

The runner owns the window's one Executor (its cache makes re-runs quick, its models stay
loaded) and forwards the executor's events, and which job they belong to, to the GUI thread.
Torch is imported when the first job runs, never at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal

from nodeflow.core.context import CancelToken
from nodeflow.core.errors import NodeFlowError
from nodeflow.core.registry import Registry
from nodeflow.jobs.execute import Outcome
from nodeflow.jobs.local import LocalRunner, final_names
from nodeflow.jobs.store import Job, JobStore

log = logging.getLogger(__name__)

#: The queue's batch for jobs queued in the editor.
GUI_BATCH = "gui"


@dataclass(frozen=True)
class WorkerCrashed:
    """Something outside the engine's own error handling went wrong while the queue ran."""

    message: str


class _Thread(QThread):
    event = Signal(object)  # an engine event of the running job, or WorkerCrashed
    started_job = Signal(object)  # the Job just claimed
    finished_job = Signal(object, object, object)  # (Job, Outcome, {scratch name: name in its out_dir})

    def __init__(self, runner: LocalRunner, batch: str, cancel: CancelToken):
        super().__init__()
        self.runner, self.batch, self.cancel = runner, batch, cancel
        self.job: Job | None = None
        runner.report = self._report
        runner.begin = self._begin

    def _begin(self, job: Job) -> None:
        self.job = job
        self.started_job.emit(job)

    def _report(self, job: Job, outcome: Outcome, names: list[str]) -> None:
        self.job = None
        self.finished_job.emit(job, outcome, final_names(outcome, names))

    def run(self) -> None:
        unsubscribe = self.runner.executor.subscribe(self.event.emit)
        try:
            self.runner.run(self.batch, self.cancel)
        except Exception as exc:  # a broken job must not take the editor down
            log.exception("the job queue stopped")
            message = f"{type(exc).__name__}: {exc}"
            if self.job is not None:  # not left running for a process that goes on
                self.runner.store.finish(self.job.id, "failed", error=message)
                self.finished_job.emit(self.job, Outcome("failed", error=message), {})
            self.event.emit(WorkerCrashed(message))
        finally:
            unsubscribe()


class JobQueueRunner(QObject):
    """Starts a worker thread while the editor's batch has queued jobs and is not paused."""

    event = Signal(object)  # engine events of the running job (and WorkerCrashed), on the GUI thread
    job_started = Signal(object)  # the Job that starts now
    job_finished = Signal(object, object, object)  # (Job as claimed, Outcome, {scratch name: final name})

    def __init__(self, store: JobStore, registry: Registry, executor=None,
                 memory_budget: Callable[[], int | None] = lambda: None, batch: str = GUI_BATCH):
        """`memory_budget` reads the user's budget (bytes, None: automatic) where it is kept, the
        settings: an executor made later starts with it, and `apply_memory_budget` passes a change on."""
        super().__init__()
        self.store, self.registry, self.batch, self.memory_budget = store, registry, batch, memory_budget
        self._executor = executor
        if executor is not None:
            self.apply_memory_budget()
        self._thread: _Thread | None = None
        self._cancel = CancelToken()

    @property
    def executor(self):
        if self._executor is None:
            from nodeflow.engine import Executor
            from nodeflow.engine.device import default_threads

            # The count the CLI, the server and Ray workers pin: a graph run here gives their pixels.
            self._executor = Executor(self.registry, memory_budget=self.memory_budget(), threads=default_threads())
        return self._executor

    def apply_memory_budget(self) -> None:
        """Give the executor's memory manager the current budget; what no longer fits is evicted now."""
        from nodeflow.engine.memory import MemoryManager

        if isinstance(self.executor.models, MemoryManager):
            self.executor.models.set_budget(self.memory_budget())

    @property
    def busy(self) -> bool:
        """Whether the worker thread is working off the queue."""
        return self._thread is not None

    def start(self) -> None:
        """Run queued jobs now (does nothing while running or paused)."""
        if self._thread is not None or self._cancel.cancelled or self.store.paused(self.batch):
            return
        if not self.store.count(self.batch, ["queued"]):
            return
        self._thread = _Thread(LocalRunner(self.store, self.executor, cancel_rest=False), self.batch, self._cancel)
        self._thread.event.connect(self.event)
        self._thread.started_job.connect(self.job_started)
        self._thread.finished_job.connect(self.job_finished)
        self._thread.finished.connect(self._stopped)
        self._thread.start()

    def _stopped(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        if self._cancel.cancelled:
            return
        self.start()  # jobs queued while the worker was finishing

    def set_paused(self, paused: bool) -> None:
        """Pause: the running job finishes, no new one starts until resumed."""
        self.store.set_paused(self.batch, paused)
        if not paused:
            self.start()

    def current(self) -> Job | None:
        """The job this editor runs now, as the store records it: the worker claims a job in the
        store before its start signal reaches this thread, so the store knows first. Between one
        job's end and the next one's claim, None."""
        return self.store.running_here(self.batch) if self._thread is not None else None

    def stop_current(self) -> Job | None:
        """Stop: cancel the job this editor runs now with the store's one cancel rule for queued
        and running jobs (the runner's watcher sees it within half a second); the queue goes on."""
        job = self.current()
        if job is None:
            return None
        try:
            return self.store.cancel(job.id)
        except NodeFlowError:  # it finished meanwhile
            return None

    def shutdown(self, wait_ms: int = 30000) -> None:
        """Stop after the current step (the editor is closing); the job is queued again next time."""
        self._cancel.cancel()
        if self._thread is not None:
            self._thread.wait(wait_ms)
            self._thread = None
