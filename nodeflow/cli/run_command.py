"""`nodeflow run WORKFLOW...`: run workflows headlessly with overrides, repeats and progress bars."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from nodeflow.cli.common import (
    EXIT_INVALID,
    EXIT_NODE_FAILED,
    EXIT_OK,
    add_model_folder_args,
    apply_model_folder_args,
    load_workflow,
)


def add_parser(sub) -> None:
    run = sub.add_parser("run", help="run workflows headlessly (JSON files or PNGs made by NodeFlow)")
    run.add_argument("workflows", nargs="+", type=Path, metavar="WORKFLOW")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="NODE.INPUT=VALUE",
                     help="override a parameter, e.g. --set 5.seed=42 (repeatable)")
    run.add_argument("--out", type=Path, default=Path("output"), help="folder for saved files (default: output)")
    run.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    run.add_argument("--repeat", type=int, default=1, metavar="N",
                     help="run each workflow N times, adding 1 to every seed parameter each time")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    add_model_folder_args(run)
    run.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    apply_model_folder_args(args)
    from nodeflow.cli.progress import ProgressPrinter
    from nodeflow.core import CancelToken, ValidationError
    from nodeflow.engine import Executor

    executor = Executor(device=args.device)
    printer = ProgressPrinter(quiet=args.quiet)
    executor.subscribe(printer)
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: _cancel(cancel))
    status = EXIT_OK
    try:
        for path in args.workflows:
            graph = load_workflow(path)
            apply_sets(graph, args.sets)
            printer.graph = graph
            for repeat in range(max(args.repeat, 1)):
                if repeat:
                    bump_seeds(graph)
                try:
                    result = executor.run(graph, cancel=cancel, output_dir=args.out, workflow_dir=path.parent)
                except ValidationError as exc:
                    for problem in exc.problems:
                        print(f"{path}: error: {problem}", file=sys.stderr)
                    return EXIT_INVALID
                if result.cancelled:
                    print("cancelled", file=sys.stderr)
                    return EXIT_NODE_FAILED
                if not result.ok:
                    status = EXIT_NODE_FAILED
    finally:
        signal.signal(signal.SIGINT, previous)
    return status


def _cancel(cancel) -> None:
    if cancel.cancelled:
        raise KeyboardInterrupt
    print("\ncancelling after the current step (Ctrl+C again to abort)", file=sys.stderr)
    cancel.cancel()


def apply_sets(graph, sets: list[str]) -> None:
    """Apply `--set NODE.INPUT=VALUE` overrides through the graph's own checks."""
    from nodeflow.core.errors import GraphEditError

    for item in sets:
        target, sep, value = item.partition("=")
        node_id, dot, name = target.partition(".")
        if not sep or not dot or not node_id or not name:
            raise GraphEditError(f"--set wants NODE.INPUT=VALUE, got '{item}'")
        graph.set_param(node_id.strip(), name.strip(), value)


def bump_seeds(graph) -> None:
    """Add 1 to every unlinked seed parameter (what `--repeat` does between runs)."""
    for node_id, record in graph.nodes.items():
        cls = graph.registry.get(record.type)
        for inp in cls.inputs if cls else ():
            if inp.seed and inp.name in record.params and graph.link_into(node_id, inp.name) is None:
                graph.set_param(node_id, inp.name, int(record.params[inp.name]) + 1)
