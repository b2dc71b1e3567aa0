"""`nodeflow validate WORKFLOW...`: check workflows without running them (never imports torch)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nodeflow.cli.common import EXIT_INVALID, EXIT_OK, add_model_folder_args, apply_model_folder_args, load_workflow


def add_parser(sub) -> None:
    parser = sub.add_parser("validate", help="check workflows without running them (no torch import)")
    parser.add_argument("workflows", nargs="+", type=Path, metavar="WORKFLOW")
    add_model_folder_args(parser)
    parser.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    apply_model_folder_args(args)
    from nodeflow.core.errors import WorkflowFormatError
    from nodeflow.engine.plan import validate

    status = EXIT_OK
    for path in args.workflows:
        try:
            problems = validate(load_workflow(path), workflow_dir=path.parent)
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
