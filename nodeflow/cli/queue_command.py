"""`nodeflow queue list|show ID|cancel ID|retry ID|clear`: look at and steer the shared job queue.

The queue is the SQLite store the GUI and every `nodeflow run` use (in the user data folder), so
a job cancelled here stops in whichever process runs it.
"""

from __future__ import annotations

import argparse
import json
import time

from nodeflow.cli.common import EXIT_OK


def add_parser(sub) -> None:
    queue = sub.add_parser("queue", help="list, inspect, cancel or retry queued and finished jobs")
    actions = queue.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every job: id, state, batch, job number, workflow, overrides")
    listing.add_argument("--state", choices=("queued", "running", "done", "failed", "cancelled"),
                         help="only jobs in this state")
    listing.add_argument("--json", action="store_true", help="one JSON object per job")
    for name, text in (("show", "everything about one job"), ("cancel", "cancel a queued or running job"),
                       ("retry", "queue a failed or cancelled job again")):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=int, metavar="ID")
    clear = actions.add_parser("clear", help="delete finished jobs (done, failed, cancelled)")
    clear.add_argument("--all", action="store_true", help="delete queued jobs too (running ones stay)")
    queue.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    from nodeflow.jobs.store import JobStore

    store = JobStore()
    try:
        if args.action == "list":
            jobs = store.jobs(states=[args.state] if args.state else None)
            for job in jobs:
                print(json.dumps(_summary(job)) if args.json else _line(job))
            if not jobs and not args.json:
                print(f"no jobs in {store.path}")
        elif args.action == "show":
            job = store.get(args.id)
            for key, value in _summary(job).items():
                print(f"{key}: {value}")
        elif args.action == "cancel":
            print(_line(store.cancel(args.id)))
        elif args.action == "retry":
            print(_line(store.retry(args.id)))
        elif args.action == "clear":
            print(f"removed {store.clear(include_queued=args.all)} jobs")
    finally:
        store.close()
    return EXIT_OK


def _summary(job) -> dict:
    return {"id": job.id, "state": job.state, "batch": job.batch, "job": job.number, "workflow": job.name,
            "set": job.overrides, "out": job.out_dir, "queued": _when(job.created), "started": _when(job.started),
            "seconds": job.seconds, "attempts": job.attempts, "worker": job.worker, "files": job.outputs,
            "error": job.error}


def _line(job) -> str:
    overrides = " ".join(f"{k}={v}" for k, v in job.overrides.items())
    seconds = f" {job.seconds:.1f}s" if job.seconds is not None else ""
    error = f"  ({job.error})" if job.error and job.state != "done" else ""
    return f"{job.id:>5}  {job.state:<9} {job.batch} #{job.number}  {job.name}  {overrides}{seconds}{error}"


def _when(stamp: float | None) -> str | None:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else None
