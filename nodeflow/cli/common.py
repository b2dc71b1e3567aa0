"""What every `nodeflow` sub-command shares: exit codes, error lines, loading a workflow file."""

from __future__ import annotations

import sys
from pathlib import Path

EXIT_OK, EXIT_NODE_FAILED, EXIT_INVALID = 0, 1, 2


def error(message: str) -> None:
    """Print `message` to stderr, each of its lines behind 'error: '."""
    from nodeflow.core.errors import shown

    for line in message.splitlines() or [""]:
        print(f"error: {shown(line, None)}", file=sys.stderr)


def load_workflow(path: Path):
    """A workflow file (NodeFlow, or ComfyUI JSON/PNG/WebP, detected) as a Graph; load notes
    (migrations, drift, the ComfyUI import report) go to stderr."""
    from nodeflow.core import default_registry
    from nodeflow.core.notes import summarised
    from nodeflow.interop.loading import open_workflow

    opened = open_workflow(path, default_registry())
    for message in summarised(opened.messages):
        print(f"{path}: note: {message}", file=sys.stderr)
    return opened.graph


def add_model_folder_args(parser) -> None:
    """`--models-dir` and `--comfyui`: model folders for this command, searched before all others."""
    parser.add_argument("--models-dir", dest="models_dirs", action="append", default=[], type=Path,
                        metavar="DIR", help="a model root with checkpoints/, loras/, ... folders (repeatable)")
    parser.add_argument("--comfyui", dest="comfyui_dirs", action="append", default=[], type=Path, metavar="DIR",
                        help="a ComfyUI install: its models/ and extra_model_paths.yaml are searched (repeatable)")


def add_read_args(parser) -> None:
    """`--allow-read DIR`: a folder (or file) the workflows of this command may read from."""
    parser.add_argument("--allow-read", dest="allow_read", action="append", default=[], type=Path, metavar="DIR",
                        help="let the workflow read files in DIR, besides its own folder and the input "
                             "folders (repeatable)")


def apply_model_folder_args(args) -> None:
    """Configure the library with the command's `--models-dir`, `--comfyui` and `--allow-read`."""
    from nodeflow.library import configure

    configure(getattr(args, "models_dirs", []), getattr(args, "comfyui_dirs", []), getattr(args, "allow_read", []))
