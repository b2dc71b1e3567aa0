"""The editor's side of the job queue: run the GUI's queued jobs one by one on a worker thread.

The jobs live in the shared SQLite queue (`nodeflow.jobs.store`), so they survive a crash of the
editor (a job it was running is queued again at the next start) and `nodeflow queue` sees them.
The work itself is `nodeflow.jobs.local.LocalRunner`, the same code `nodeflow run` uses: same
files, same `index.jsonl`. Stop cancels the running job only; the queue then goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal

from nodeflow.core.context import CancelToken
from nodeflow.jobs.execute import Outcome
from nodeflow.jobs.local import LocalRunner
from nodeflow.jobs.store import Job, JobStore

log = logging.getLogger(__name__)

#: The queue's batch for jobs queued in the editor.
GUI_BATCH = "gui"


class _Thread(QThread):
    finished_job = Signal(int, str)  # (job id, status)

    def __init__(self, runner: LocalRunner, batch: str, cancel: CancelToken):
        super().__init__()
        self.runner, self.batch, self.cancel = runner, batch, cancel
        runner.report = self._report

    def _report(self, job: Job, outcome: Outcome, names: list[str]) -> None:
        self.finished_job.emit(job.id, outcome.status)

    def run(self) -> None:
        try:
            self.runner.run(self.batch, self.cancel)
        except Exception:  # a broken job must not take the editor down
            log.exception("the job queue stopped")


class JobQueueRunner(QObject):
    """Starts a worker thread while the GUI batch has queued jobs and is not paused."""

    job_finished = Signal(int, str)  # (job id, "done" | "failed" | "cancelled")
    idle = Signal()  # the worker stopped: nothing queued, or paused

    def __init__(self, store: JobStore, executor: Callable[[], object], batch: str = GUI_BATCH):
        super().__init__()
        self.store, self.batch, self._executor_factory = store, batch, executor
        self._executor = None
        self._thread: _Thread | None = None
        self._cancel = CancelToken()

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Run queued jobs now (does nothing while running or paused)."""
        if self._thread is not None or self.store.paused(self.batch):
            return
        if not self.store.jobs(self.batch, ["queued"]):
            return
        if self._executor is None:
            self._executor = self._executor_factory()
        self._thread = _Thread(LocalRunner(self.store, self._executor, cancel_rest=False), self.batch, self._cancel)
        self._thread.finished_job.connect(self.job_finished)
        self._thread.finished.connect(self._stopped)
        self._thread.start()

    def _stopped(self) -> None:
        self._thread = None
        if self._cancel.cancelled:
            return
        self.idle.emit()
        self.start()  # jobs queued while the worker was finishing

    def set_paused(self, paused: bool) -> None:
        """Pause: the running job finishes, no new one starts until resumed."""
        self.store.set_paused(self.batch, paused)
        if not paused:
            self.start()

    def stop_current(self) -> Job | None:
        """Cancel the running job only (the runner sees it within half a second); the queue goes on."""
        running = self.store.jobs(self.batch, ["running"])
        return self.store.cancel(running[0].id) if running else None

    def shutdown(self, wait_ms: int = 30000) -> None:
        """Stop after the current step (the editor is closing); the job is queued again next time."""
        self._cancel.cancel()
        if self._thread is not None:
            self._thread.wait(wait_ms)
            self._thread = None
