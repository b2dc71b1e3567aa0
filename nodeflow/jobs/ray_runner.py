"""Run a batch on Ray: one actor per worker, each holding its own Executor (models load once per worker).

The driver (this process) claims jobs from the queue and hands each to an idle actor, preferring
the actor that already ran a job on the same files (checkpoint) and otherwise a job no other
worker has loaded. Actors return their files as bytes and the driver writes them, so names and
`index.jsonl` are those of a local run. A failed job gets one more try on another worker. Ctrl+C
(or `nodeflow queue cancel`) trips the cancel token inside the worker's run, then the actors go.
A long-lived caller (`nodeflow serve --ray`) opens the cluster and its actors once (`open`), drains
the queue as often as jobs arrive (`drain`), and closes them when it stops (`close`): models stay
loaded between prompts.

Ray is imported here only, when `--ray` is given.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodeflow.core.context import CancelToken
from nodeflow.core.paths import user_dir
from nodeflow.jobs.batch import files_key
from nodeflow.jobs.execute import Outcome, run_job
from nodeflow.jobs.local import Report, Summary, commit
from nodeflow.jobs.store import Job, JobStore
from nodeflow.library import allowed_reads

#: Seconds a cancelled worker gets to stop at its next step before it is killed.
CANCEL_GRACE = 10.0


class JobWorker:
    """The actor: one Executor for its lifetime, so a checkpoint is loaded once per worker."""

    def __init__(self, device: str, env: dict[str, str], cwd: str, memory_budget: int | None = None,
                 threads: int | None = None):
        os.environ.update(env)
        if os.path.isdir(cwd):
            os.chdir(cwd)  # relative paths resolve as in the driver on a local cluster
        from nodeflow.engine import Executor

        self.executor = Executor(device=device, memory_budget=memory_budget, previews=False, threads=threads)
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.token = CancelToken()

    def run(self, workflow_text: str, overrides: dict[str, Any], workflow_dir: str | None) -> Outcome:
        self.token = CancelToken()
        outcome = run_job(self.executor, workflow_text, overrides, workflow_dir, self.token)
        outcome.worker = self.name
        return outcome

    def cancel(self) -> None:
        """Stop the running job at its next step (runs beside `run`: the actor has two threads)."""
        self.token.cancel()


@dataclass
class _Slot:
    actor: Any
    key: tuple | None = None  # files of the last job it ran
    job: Job | None = None
    ref: Any = None
    failed_jobs: set[int] = field(default_factory=set)


class RayRunner:
    def __init__(self, store: JobStore, *, address: str = "local", workers: int = 2, device: str = "auto",
                 group: bool = True, report: Report | None = None, model_roots: tuple[str, ...] = (),
                 comfyui: tuple[str, ...] = (), memory_budget: int | None = None, threads: int | None = None,
                 begin: Callable[[Job], None] | None = None, cancel_rest: bool = True):
        """`begin(job)` is called when a job goes to a worker; without `cancel_rest`, a cancel puts
        the running jobs back in the queue and leaves the others queued (a server stopping)."""
        self.store, self.address, self.workers, self.device = store, address, max(1, workers), device
        self.model_roots, self.comfyui, self.memory_budget = model_roots, comfyui, memory_budget
        self.threads = threads
        self.group, self.report, self.begin, self.cancel_rest = group, report, begin, cancel_rest
        self._keys: dict[int, tuple] = {}
        self._retried: set[int] = set()
        self._slots: list[_Slot] = []
        self._started_here = False

    def run(self, batch: str, cancel: CancelToken) -> Summary:
        """Run the queued jobs of `batch` on Ray until none is left or `cancel` trips."""
        self.open()
        try:
            return self.drain(batch, cancel)
        finally:
            self.close()

    def open(self) -> None:
        """Join (or start) the cluster and start the workers."""
        import ray

        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            self._started_here = True  # also when init fails half-way: `close` shuts down what started
            if self.address == "local":
                ray.init(address="local", num_cpus=max(2, self.workers), include_dashboard=False,
                         log_to_driver=False)
            else:
                ray.init(address=self.address, log_to_driver=False)
        self._slots = [_Slot(actor) for actor in self._actors(ray)]

    def drain(self, batch: str, cancel: CancelToken) -> Summary:
        """Run the queued jobs of `batch` on the open workers until none is left or `cancel` trips."""
        import ray

        return self._loop(ray, batch, cancel, self._slots)

    def close(self) -> None:
        """Stop the workers, and the cluster if `open` started it."""
        import ray

        for slot in self._slots:
            ray.kill(slot.actor)
        self._slots = []
        if self._started_here:
            ray.shutdown()
            self._started_here = False

    def _actors(self, ray) -> list[Any]:
        gpus = ray.cluster_resources().get("GPU", 0)
        per_actor = {"num_cpus": 1}
        if gpus:
            per_actor["num_gpus"] = 1 if gpus >= self.workers else gpus / self.workers
        cls = ray.remote(max_concurrency=2, **per_actor)(JobWorker)
        return [cls.remote(self.device, self._worker_env(), os.getcwd(), self.memory_budget, self.threads)
                for _ in range(self.workers)]

    def _worker_env(self) -> dict[str, str]:
        """The driver's user folder, model folders and readable folders (command-line ones first),
        for every worker."""
        env = {"NODEFLOW_HOME": os.environ.get("NODEFLOW_HOME", str(user_dir()))}
        reads = ("NODEFLOW_ALLOW_READ", allowed_reads())
        for name, first in (("NODEFLOW_MODEL_PATHS", self.model_roots), ("NODEFLOW_COMFYUI", self.comfyui), reads):
            paths = [str(Path(p).resolve()) for p in first] + [p for p in os.environ.get(name, "").split(os.pathsep)
                                                               if p.strip()]
            if paths:
                env[name] = os.pathsep.join(paths)
        return env

    def _loop(self, ray, batch: str, cancel: CancelToken, slots: list[_Slot]) -> Summary:
        summary = Summary()
        retries: list[Job] = []  # failed once, waiting for another worker
        while True:
            if cancel.cancelled:
                return self._stop(ray, batch, slots, summary)
            for index, slot in enumerate(slots):
                if slot.job is None:
                    job = self._next(batch, slots, index, retries)
                    if job is not None:
                        slot.job = job
                        if self.begin is not None:
                            self.begin(job)
                        slot.ref = slot.actor.run.remote(job.workflow, job.overrides, job.workflow_dir)
            busy = [slot for slot in slots if slot.job is not None]
            if not busy:
                return summary
            ready, _ = ray.wait([slot.ref for slot in busy], num_returns=1, timeout=0.5)
            self._forward_cancels(busy)
            for slot in busy:
                if slot.ref in ready:
                    self._finished(ray, slot, retries, summary)

    def _next(self, batch: str, slots: list[_Slot], index: int, retries: list[Job]) -> Job | None:
        """A retry this worker has not failed, else a queued job chosen for this worker."""
        slot = slots[index]
        for job in retries:
            if job.id not in slot.failed_jobs or all(job.id in s.failed_jobs for s in slots):
                retries.remove(job)
                return job
        return self.store.claim(batch, self._chooser(slots, index) if self.group else None)

    def _chooser(self, slots: list[_Slot], index: int) -> Callable[[list[Job]], Job]:
        """Same files as this worker last loaded; else files no other worker has; else the queue's head."""
        own = slots[index].key
        others = {s.key for i, s in enumerate(slots) if i != index and s.key is not None}

        def choose(jobs: list[Job]) -> Job:
            keys = [(job, self._key(job)) for job in jobs]
            return (next((j for j, k in keys if k == own), None)
                    or next((j for j, k in keys if k not in others), None) or jobs[0])
        return choose

    def _key(self, job: Job) -> tuple:
        from nodeflow.core.registry import default_registry

        if job.id not in self._keys:
            self._keys[job.id] = files_key(job, default_registry())
        return self._keys[job.id]

    def _finished(self, ray, slot: _Slot, retries: list[Job], summary: Summary) -> None:
        job = slot.job
        try:
            outcome = ray.get(slot.ref)
        except ray.exceptions.RayError as exc:  # the worker died: its job fails (and is retried)
            outcome = Outcome("failed", error=f"worker lost: {type(exc).__name__}: {exc}".splitlines()[0])
        slot.job, slot.ref, slot.key = None, None, self._key(job)
        if outcome.status == "failed" and job.id not in self._retried:
            self._retried.add(job.id)
            slot.failed_jobs.add(job.id)
            retries.append(job)
            if self.report is not None:
                self.report(job, Outcome("retrying", error=outcome.error, seconds=outcome.seconds,
                                         worker=outcome.worker), [])
            return
        names = commit(self.store, job, outcome)
        summary.add(job, outcome.status)
        if self.report is not None:
            self.report(job, outcome, names)

    def _forward_cancels(self, busy: list[_Slot]) -> None:
        """`nodeflow queue cancel ID` (or the GUI) cancelled a running job: stop it on its worker."""
        for slot in busy:
            if self.store.state(slot.job.id) == "cancelled":
                slot.actor.cancel.remote()

    def _stop(self, ray, batch: str, slots: list[_Slot], summary: Summary) -> Summary:
        """Ctrl+C: stop every worker's job at its next step, record them cancelled, cancel the rest."""
        busy = [slot for slot in slots if slot.job is not None]
        for slot in busy:
            slot.actor.cancel.remote()
        if busy:
            ray.wait([slot.ref for slot in busy], num_returns=len(busy), timeout=CANCEL_GRACE)
        for slot in busy:
            if self.cancel_rest:
                self.store.finish(slot.job.id, "cancelled", error="cancelled")
                summary.add(slot.job, "cancelled")
            else:
                self.store.requeue(slot.job.id)  # runs again at the next start
            slot.job, slot.ref = None, None
        if self.cancel_rest:
            self.store.cancel_batch(batch)
        return summary
