"""Reading and writing workflow files on disk, including workflows embedded in PNG images.

Saving is atomic (temp file in the same folder, then rename), so a crash or a full disk never
leaves a half-written workflow where the user's file was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from nodeflow.core import workflow
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.graph import Graph
from nodeflow.core.registry import Registry

#: The PNG text chunk that carries the workflow that made the image.
PNG_WORKFLOW_KEY = "nodeflow-workflow"
#: The PNG text chunk with the main parameters (prompt, seed, steps...) in readable form.
PNG_PARAMETERS_KEY = "parameters"


def read_text(path: Path) -> str:
    """Workflow JSON text from a `.json` file or from a NodeFlow PNG."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".png":
            return read_png_workflow(path)
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise WorkflowFormatError(f"{path} is not a text file") from None


def read_png_workflow(path: Path) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            text = image.text.get(PNG_WORKFLOW_KEY) if hasattr(image, "text") else None
    except (UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise WorkflowFormatError(f"{path} is not a readable PNG: {exc}") from None
    if text is None:
        raise WorkflowFormatError(f"{path} carries no NodeFlow workflow")
    return text


def load(path: Path, registry: Registry) -> tuple[Graph, workflow.LoadReport]:
    return workflow.loads(read_text(path), registry)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(graph: Graph, path: Path) -> None:
    write_atomic(path, workflow.dumps(graph))
