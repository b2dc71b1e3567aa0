"""`nodeflow validate WORKFLOW...`: check workflows without running them (never imports torch).

Every file given is checked, whatever an earlier one held; the exit status is 2 if any is invalid.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from nodeflow.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    add_model_folder_args,
    add_read_args,
    apply_model_folder_args,
    load_workflow,
)

log = logging.getLogger(__name__)


def add_parser(sub) -> None:
    parser = sub.add_parser("validate", help="check workflows without running them (no torch import)")
    parser.add_argument("workflows", nargs="+", type=Path, metavar="WORKFLOW")
    add_model_folder_args(parser)
    add_read_args(parser)
    parser.add_argument("--out", type=Path, default=Path("output"),
                        help="the output folder a run would use; file-name prefixes are checked against it")
    parser.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    apply_model_folder_args(args)
    status = EXIT_OK
    for path in args.workflows:
        if not check_file(path, args.out):
            status = EXIT_INVALID
    return status


def check_file(path: Path, output_dir: Path) -> bool:
    """Print `path: ok` or one line per problem; True when the workflow is valid."""
    from nodeflow.core.errors import NodeFlowError, shown
    from nodeflow.engine.plan import validate

    try:
        problems = [str(p) for p in validate(load_workflow(path), workflow_dir=path.parent, output_dir=output_dir)]
    except NodeFlowError as exc:
        problems = [str(exc).removeprefix(f"{path}: ")]  # the file is named once, in front
    except Exception as exc:  # a bug must not hide the files after this one
        log.debug("validating %s failed", path, exc_info=True)
        problems = [f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"]
    for problem in problems:
        for line in problem.splitlines():
            print(f"{path}: error: {shown(line, None)}", file=sys.stderr)
    if not problems:
        print(f"{path}: ok")
    return not problems
