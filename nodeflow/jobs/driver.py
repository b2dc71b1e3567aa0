"""The headless batch driver behind `nodeflow run`: prepare the batch, pick a runner, report each job."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from nodeflow.core.context import CancelToken
from nodeflow.core.errors import shown
from nodeflow.engine.device import default_threads, guess_device
from nodeflow.jobs.batch import Source, prepare
from nodeflow.jobs.execute import Outcome, scratch_root
from nodeflow.jobs.local import LocalRunner, Summary
from nodeflow.jobs.store import Job, JobStore
from nodeflow.jobs.sweep import MAX_JOBS, Sweep


@dataclass(frozen=True)
class BatchOptions:
    out: Path
    device: str = "auto"
    zip_sweeps: bool = False
    repeat: int = 1
    fixed: tuple[str, ...] = ()
    resume: bool = False
    ray: str | None = None  # None: this process; "local": a cluster started for the run; else an address
    workers: int = 2
    group: bool = True  # jobs on the same checkpoint to the worker that has it loaded
    model_roots: tuple[str, ...] = ()  # --models-dir, for workers in other processes
    comfyui: tuple[str, ...] = ()  # --comfyui
    memory_budget: int | None = None  # --memory-budget, bytes (None: what is free)
    max_jobs: int = MAX_JOBS  # --max-jobs: the batch is refused, before anything is listed, above this
    threads: int | None = None  # --threads: torch's CPU threads for every job (None: this machine's CPUs)


def run_batch(sources: list[Source], sweeps: list[Sweep], options: BatchOptions, cancel: CancelToken,
              printer=None, store: JobStore | None = None) -> Summary:
    """Run every job of the batch not yet done in `options.out`; bad input raises before any model loads."""
    store = store or JobStore()
    batch = prepare(store, sources, sweeps, options.out, zip_sweeps=options.zip_sweeps, repeat=options.repeat,
                    fixed=options.fixed, resume=options.resume, memory_budget=options.memory_budget,
                    device=guess_device() if options.device == "auto" else options.device, max_jobs=options.max_jobs)
    for note in batch.notes:
        print(f"note: {shown(note, None)}", file=sys.stderr)
    total = batch.marker.count
    if batch.already_done:
        print(f"resuming: {batch.already_done} of {total} jobs already done", file=sys.stderr)

    def report(job: Job, outcome: Outcome, names: list[str]) -> None:
        if total == 1 and outcome.status == "done":
            for name in names:
                print(f"saved {options.out / name}", file=sys.stderr)
        else:
            where = f" on {outcome.worker}" if options.ray else ""
            what = ", ".join(names) if outcome.status == "done" else outcome.error
            print(f"job {job.number - batch.marker.first + 1}/{total} {outcome.status}{where} "
                  f"in {outcome.seconds:.2f}s: {shown(what, None)}", file=sys.stderr)

    threads = options.threads or default_threads()  # one count for every job: same sums, same pixels
    if options.ray is not None:
        from nodeflow.jobs.ray_runner import RayRunner

        runner = RayRunner(store, address=options.ray, workers=options.workers, device=options.device,
                           group=options.group, report=report, model_roots=options.model_roots,
                           comfyui=options.comfyui, memory_budget=options.memory_budget, threads=threads)
        return runner.run(batch.id, cancel)
    from nodeflow.engine import Executor

    executor = Executor(device=options.device, memory_budget=options.memory_budget, previews=False, threads=threads)
    announce = None
    if printer is not None:
        printer.hide_paths_under = scratch_root()
        executor.subscribe(printer)

        def announce(graph) -> None:
            printer.graph = graph

    return LocalRunner(store, executor, group=options.group, announce=announce, report=report).run(batch.id, cancel)
