"""`nodeflow run WORKFLOW...`: run workflows headlessly as a batch of jobs (overrides, sweeps, repeats, Ray).

This module only reads options; `nodeflow.jobs` expands, queues and runs the jobs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nodeflow.cli.common import (
    EXIT_NODE_FAILED,
    EXIT_OK,
    add_model_folder_args,
    add_read_args,
    apply_model_folder_args,
    load_workflow,
)
from nodeflow.cli.plan_command import budget_size


def add_parser(sub) -> None:
    run = sub.add_parser("run", help="run workflows headlessly (JSON files or PNGs made by NodeFlow)")
    run.add_argument("workflows", nargs="+", type=Path, metavar="WORKFLOW")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="NODE.INPUT=VALUE",
                     help="override a parameter, e.g. --set 5.seed=42 (repeatable)")
    run.add_argument("--out", type=Path, default=Path("output"), help="folder for saved files (default: output)")
    run.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    run.add_argument("--repeat", type=int, default=1, metavar="N",
                     help="run each job N times, adding 1 to every seed parameter each time")
    run.add_argument("--sweep", dest="sweeps", action="append", default=[], metavar="NODE.INPUT=SPEC",
                     help="one job per value: SPEC is a,b,c or lo..hi (integers, inclusive) or @file "
                          "(one value per line); several sweeps make every combination (repeatable)")
    run.add_argument("--max-jobs", type=int, default=None, metavar="N",
                     help="the most jobs a batch may hold, counted before any is made (above the default: refused)")
    run.add_argument("--zip", dest="zip_sweeps", action="store_true",
                     help="pair the sweeps' values one to one instead of taking every combination")
    run.add_argument("--resume", action="store_true",
                     help="continue the batch in --out: skip the jobs its index.jsonl lists as done")
    run.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                     help="run the jobs on Ray: a local cluster started for the run, or join ADDRESS")
    run.add_argument("--workers", type=int, default=2, metavar="N", help="Ray workers (default 2)")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    add_model_folder_args(run)
    add_read_args(run)
    run.add_argument("--memory-budget", metavar="SIZE", type=budget_size,
                     help="bytes models and cached results may take on the device, e.g. 6GB or 512MB "
                          "(default: what is free when the run starts); see `nodeflow plan`")
    run.add_argument("--threads", metavar="N", type=positive_int,
                     help="torch's CPU threads for every job, locally and on Ray workers alike (default: the "
                          "CPUs this process may use); recorded in each output's manifest")
    run.set_defaults(handler=handler)


def positive_int(text: str) -> int:
    """argparse type for counts that must be at least 1, with the reason on a bad value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def handler(args: argparse.Namespace) -> int:
    apply_model_folder_args(args)
    # NodeFlow prints each node's progress; the hub libraries' own bars (transformers' "Loading
    # weights" on every load) would interleave with it. Read when they are first imported.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from nodeflow.cli.progress import ProgressPrinter
    from nodeflow.cli.stopping import stop_signals
    from nodeflow.core import CancelToken
    from nodeflow.jobs.batch import Source
    from nodeflow.jobs.driver import BatchOptions, run_batch
    from nodeflow.jobs.sweep import MAX_JOBS, parse_sweep

    sweeps = [parse_sweep(option) for option in args.sweeps]
    sources = []
    for path in args.workflows:
        graph = load_workflow(path)
        apply_sets(graph, args.sets)
        sources.append(Source(str(path), graph, path.parent))
        named = [(*item.partition("=")[0].split(".", 1), item.partition("=")[2]) for item in args.sets]
        named += [(s.node_id, s.input, value) for s in sweeps for value in s.values]
        allow_named_files(graph, named)
    options = BatchOptions(out=args.out, device=args.device, zip_sweeps=args.zip_sweeps, repeat=args.repeat,
                           fixed=tuple(item.partition("=")[0].strip() for item in args.sets),
                           max_jobs=args.max_jobs if args.max_jobs is not None else MAX_JOBS,
                           resume=args.resume, ray=args.ray, workers=args.workers, memory_budget=args.memory_budget,
                           threads=args.threads,
                           model_roots=tuple(map(str, args.models_dirs)), comfyui=tuple(map(str, args.comfyui_dirs)))
    printer = ProgressPrinter(quiet=args.quiet)
    cancel = CancelToken()
    with stop_signals(cancel):
        summary = run_batch(sources, sweeps, options, cancel, printer)
    if cancel.cancelled:
        print("cancelled", file=sys.stderr)
        return EXIT_NODE_FAILED
    return EXIT_NODE_FAILED if summary.failed or summary.cancelled else EXIT_OK


def apply_sets(graph, sets: list[str]) -> None:
    """Apply `--set NODE.INPUT=VALUE` overrides through the graph's own checks."""
    from nodeflow.core.errors import GraphEditError

    for item in sets:
        target, sep, value = item.partition("=")
        node_id, dot, name = target.partition(".")
        if not sep or not dot or not node_id or not name:
            raise GraphEditError(f"--set wants NODE.INPUT=VALUE, got '{item}'")
        graph.set_param(node_id.strip(), name.strip(), value)


def allow_named_files(graph, named: list[tuple[str, ...]]) -> None:
    """Files the user typed on the command line for a file or model input (`--set 3.image=x.png`)
    are theirs to read wherever they are (`core.reads`); a workflow's own names are not."""
    from nodeflow.library import allow_read

    for node_id, name, value in (item for item in named if len(item) == 3):
        record = graph.nodes.get(node_id.strip())
        cls = graph.registry.get(record.type) if record is not None else None
        inp = cls.input(name.strip()) if cls is not None else None
        if inp is not None and (inp.file or inp.model) and value.strip():
            allow_read(Path(value.strip()).expanduser().absolute())
