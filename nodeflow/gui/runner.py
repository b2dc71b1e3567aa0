"""Running workflows without freezing the UI: one Executor per window (its cache makes re-runs
instant), each run on a worker QThread, engine events forwarded to the GUI thread as Qt signals.

The worker runs a *copy* of the graph taken when the run was queued, so the user can keep editing
while it runs; the run's `RunResult` comes back with the graph it was queued from, so the window
records the run's manifest on that graph only. Torch is imported on the first run, never at
start-up; the engine (which does not import it) when the memory estimate is first shown.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from nodeflow.core import workflow
from nodeflow.core.context import CancelToken
from nodeflow.core.errors import Problem, ValidationError
from nodeflow.core.graph import Graph
from nodeflow.core.registry import Registry

log = logging.getLogger(__name__)


@dataclass
class Job:
    graph: Graph
    workflow_dir: Path | None
    output_dir: Path
    number: int
    origin: Graph | None = None  # the graph the snapshot was taken from


@dataclass(frozen=True)
class WorkerCrashed:
    """Something outside the engine's own error handling went wrong in a run."""

    message: str


class _Worker(QThread):
    event = Signal(object)
    result = Signal(object, object)  # (the job's origin graph, the executor's RunResult)

    def __init__(self, executor, job: Job, cancel: CancelToken):
        super().__init__()
        self.executor, self.job, self.cancel = executor, job, cancel

    def run(self) -> None:
        unsubscribe = self.executor.subscribe(self.event.emit)
        try:
            result = self.executor.run(self.job.graph, cancel=self.cancel, output_dir=self.job.output_dir,
                                       workflow_dir=self.job.workflow_dir)
            self.result.emit(self.job.origin, result)
        except ValidationError as exc:
            self.event.emit(exc)
        except Exception as exc:  # the UI must hear about it rather than hang
            log.exception("run failed")
            self.event.emit(WorkerCrashed(f"{type(exc).__name__}: {exc}"))
        finally:
            unsubscribe()


class RunController(QObject):
    event = Signal(object)  # engine events, on the GUI thread
    job_started = Signal(int)
    job_done = Signal(int)
    run_result = Signal(object, object)  # (the graph the job was queued from, RunResult)
    queue_changed = Signal(list)  # numbers of the jobs waiting, in order (not the running one)

    def __init__(self, registry: Registry, executor=None, memory_budget: Callable[[], int | None] = lambda: None):
        """`memory_budget` reads the user's budget (bytes, None: automatic) where it is kept, the
        settings: an executor made later starts with it, and `apply_memory_budget` passes a change on."""
        super().__init__()
        self.registry = registry
        self.memory_budget = memory_budget
        self._executor = executor
        if executor is not None:
            self.apply_memory_budget()
        self._queue: deque[Job] = deque()
        self._worker: _Worker | None = None
        self._cancel = CancelToken()
        self._count = 0

    @property
    def executor(self):
        if self._executor is None:
            from nodeflow.engine import Executor

            self._executor = Executor(self.registry, memory_budget=self.memory_budget())
        return self._executor

    def apply_memory_budget(self) -> None:
        """Give the executor's memory manager the current budget; what no longer fits is evicted now."""
        from nodeflow.engine.memory import MemoryManager

        if isinstance(self.executor.models, MemoryManager):
            self.executor.models.set_budget(self.memory_budget())

    @property
    def running(self) -> bool:
        return self._worker is not None

    @property
    def current_job(self) -> Job | None:
        """The job running now (its graph snapshot tells which seeds made the images it shows)."""
        return self._worker.job if self._worker is not None else None

    def waiting(self) -> list[int]:
        """Job numbers of the runs waiting behind the running one, first to run first."""
        return [job.number for job in self._queue]

    def validate(self, graph: Graph, workflow_dir: Path | None) -> list[Problem]:
        return self.executor.validate(graph, workflow_dir)

    def submit(self, graph: Graph, workflow_dir: Path | None, output_dir: Path) -> int:
        """Queue a run of a snapshot of `graph`; returns its job number."""
        snapshot, _ = workflow.loads(workflow.dumps(graph), self.registry)
        self._count += 1
        self._queue.append(Job(snapshot, workflow_dir, output_dir, self._count, origin=graph))
        self.queue_changed.emit(self.waiting())
        self._next()
        return self._count

    def cancel(self) -> None:
        """Stop the running job (at the next step or node boundary) and drop the queue."""
        self._queue.clear()
        self.queue_changed.emit([])
        self._cancel.cancel()

    def _next(self) -> None:
        if self._worker is not None or not self._queue:
            return
        job = self._queue.popleft()
        self.queue_changed.emit(self.waiting())
        self._cancel = CancelToken()
        worker = _Worker(self.executor, job, self._cancel)
        worker.event.connect(self._forward)  # queued: slots of an object on the GUI thread
        worker.result.connect(self._forward_result)
        worker.finished.connect(self._finished)
        self._worker = worker
        self.job_started.emit(job.number)
        worker.start()

    @Slot(object)
    def _forward(self, event) -> None:
        self.event.emit(event)

    @Slot(object, object)
    def _forward_result(self, origin, result) -> None:
        self.run_result.emit(origin, result)

    @Slot()
    def _finished(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.wait()
        worker.deleteLater()
        self.job_done.emit(worker.job.number)
        self._next()

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Cancel and wait for the worker (window closing)."""
        self.cancel()
        if self._worker is not None:
            self._worker.wait(timeout_ms)
