"""The `nodeflow` command: one module per sub-command, this one only dispatches.

Exit codes: 0 ok, 1 a node failed (or the run was cancelled), 2 the workflow is invalid (or the
command line is). Errors are one readable line each; `--debug` shows tracebacks. Nothing heavy is
imported here: `--help`, `validate` and `nodes` never load torch.

A command module exposes `add_parser(sub)` (declares its arguments and sets `handler`) and a
`handler(args) -> int`; adding a command is one module plus one line in `COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from nodeflow.cli.common import EXIT_INVALID, EXIT_NODE_FAILED, error

#: Sub-command modules under nodeflow.cli, in the order `--help` lists them.
COMMANDS = ("run", "queue", "serve", "validate", "plan", "convert", "nodes", "models", "gui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nodeflow", description="Build and run diffusion image pipelines as node graphs.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"nodeflow.cli.{name}_command").add_parser(sub)
    return parser


#: What `nodeflow FILE` opens in the editor (as `nodeflow gui FILE`): a workflow or a picture carrying one.
OPENABLE = (".json", ".png", ".webp")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 1 and argv[0] not in COMMANDS and argv[0].lower().endswith(OPENABLE):
        argv = ["gui", argv[0]]  # `nodeflow wf.json`, as a file manager or a habit calls it
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    from nodeflow.core.errors import NodeFlowError

    try:
        if args.command is None:
            from nodeflow.cli.gui_command import handler

            return handler(argparse.Namespace(file=None))
        return args.handler(args)
    except NodeFlowError as exc:
        if args.debug:
            raise
        error(str(exc))
        return EXIT_INVALID
    except Exception as exc:
        if args.debug:
            raise
        error(f"{type(exc).__name__}: {exc} (run with --debug for details)")
        return EXIT_NODE_FAILED


if __name__ == "__main__":
    sys.exit(main())
