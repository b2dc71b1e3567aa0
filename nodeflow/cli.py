"""The `nodeflow` command: run workflows headlessly, validate them, list node types, open the GUI.

Exit codes: 0 ok, 1 a node failed (or the run was cancelled), 2 the workflow is invalid (or the
command line is). Errors are one readable line each; `--debug` shows tracebacks. Nothing heavy is
imported here: `--help`, `validate` and `nodes` never load torch.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_NODE_FAILED, EXIT_INVALID = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nodeflow", description="Build and run diffusion image pipelines as node graphs.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run workflows headlessly (JSON files or PNGs made by NodeFlow)")
    run.add_argument("workflows", nargs="+", type=Path, metavar="WORKFLOW")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="NODE.INPUT=VALUE",
                     help="override a parameter, e.g. --set 5.seed=42 (repeatable)")
    run.add_argument("--out", type=Path, default=Path("output"), help="folder for saved files (default: output)")
    run.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    run.add_argument("--repeat", type=int, default=1, metavar="N",
                     help="run each workflow N times, adding 1 to every seed parameter each time")
    run.add_argument("--quiet", action="store_true", help="no progress bars")

    validate = sub.add_parser("validate", help="check workflows without running them (no torch import)")
    validate.add_argument("workflows", nargs="+", type=Path, metavar="WORKFLOW")

    nodes = sub.add_parser("nodes", help="list every node type with its inputs and outputs")
    nodes.add_argument("--json", action="store_true", help="machine-readable output")

    gui = sub.add_parser("gui", help="open the editor (the default when no command is given)")
    gui.add_argument("file", nargs="?", help="a workflow JSON or NodeFlow PNG to open")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    from nodeflow.core.errors import NodeFlowError

    try:
        if args.command in (None, "gui"):
            from nodeflow.gui.app import main as gui_main

            return gui_main(getattr(args, "file", None))
        if args.command == "nodes":
            return _nodes(args)
        if args.command == "validate":
            return _validate(args)
        return _run(args)
    except NodeFlowError as exc:
        if args.debug:
            raise
        _error(str(exc))
        return EXIT_INVALID
    except Exception as exc:
        if args.debug:
            raise
        _error(f"{type(exc).__name__}: {exc} (run with --debug for details)")
        return EXIT_NODE_FAILED


def _error(message: str) -> None:
    for line in message.splitlines() or [""]:
        print(f"error: {line}", file=sys.stderr)


def _load(path: Path):
    """A workflow file as a Graph; load notes (migrations, drift) go to stderr."""
    from nodeflow.core import default_registry, files

    graph, report = files.load(path, default_registry())
    for message in report.messages:
        print(f"{path}: note: {message}", file=sys.stderr)
    return graph


def _nodes(args: argparse.Namespace) -> int:
    from nodeflow.core import default_registry

    registry = default_registry()
    if args.json:
        print(json.dumps([cls.describe() for cls in registry], indent=2))
        return EXIT_OK
    for cls in registry:
        ins = ", ".join(f"{i.name}: {i.type}" for i in cls.inputs)
        outs = ", ".join(f"{o.name}: {o.type}" for o in cls.outputs)
        print(f"{cls.type_id:<28} {cls.title} [{cls.category}]\n    in:  {ins or '-'}\n    out: {outs or '-'}")
    for source, message in registry.problems:
        print(f"skipped {source}: {message}", file=sys.stderr)
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from nodeflow.core.errors import WorkflowFormatError
    from nodeflow.engine.plan import validate

    status = EXIT_OK
    for path in args.workflows:
        try:
            problems = validate(_load(path), workflow_dir=path.parent)
        except WorkflowFormatError as exc:
            print(f"{path}: error: {exc}", file=sys.stderr)
            status = EXIT_INVALID
            continue
        for problem in problems:
            print(f"{path}: error: {problem}", file=sys.stderr)
        if problems:
            status = EXIT_INVALID
        else:
            print(f"{path}: ok")
    return status


def _run(args: argparse.Namespace) -> int:
    from nodeflow.cli_progress import ProgressPrinter
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
            graph = _load(path)
            _apply_sets(graph, args.sets)
            printer.graph = graph
            for repeat in range(max(args.repeat, 1)):
                if repeat:
                    _bump_seeds(graph)
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


def _apply_sets(graph, sets: list[str]) -> None:
    from nodeflow.core.errors import GraphEditError

    for item in sets:
        target, sep, value = item.partition("=")
        node_id, dot, name = target.partition(".")
        if not sep or not dot or not node_id or not name:
            raise GraphEditError(f"--set wants NODE.INPUT=VALUE, got '{item}'")
        graph.set_param(node_id.strip(), name.strip(), value)


def _bump_seeds(graph) -> None:
    for node_id, record in graph.nodes.items():
        cls = graph.registry.get(record.type)
        for inp in cls.inputs if cls else ():
            if inp.seed and inp.name in record.params and graph.link_into(node_id, inp.name) is None:
                graph.set_param(node_id, inp.name, int(record.params[inp.name]) + 1)


if __name__ == "__main__":
    sys.exit(main())
