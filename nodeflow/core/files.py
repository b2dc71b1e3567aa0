"""Reading and writing workflow files on disk, including workflows embedded in PNG images.

Saving is atomic (`core.atomic`: temp file in the same folder, then rename), so a crash or a full
disk never leaves a half-written workflow where the user's file was.
"""

from __future__ import annotations

import threading
from pathlib import Path

from nodeflow.core import workflow
from nodeflow.core.atomic import write_atomic
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.graph import Graph
from nodeflow.core.registry import Registry

#: The PNG text chunk that carries the workflow that made the image.
PNG_WORKFLOW_KEY = "nodeflow-workflow"
#: The largest workflow (UTF-8 bytes) a saved PNG carries, and what reading one accepts.
MAX_PNG_WORKFLOW = 32 * 1024 * 1024
_PNG_LIMIT_LOCK = threading.Lock()
#: The PNG text chunk with the main parameters (prompt, seed, steps...) in readable form.
PNG_PARAMETERS_KEY = "parameters"
#: Key in a shown PIL image's `info` naming the file a saver wrote it to (the GUI's viewer reads it).
SAVED_PATH_INFO = "nodeflow-saved-path"


def read_text(path: Path) -> str:
    """Workflow JSON text from a `.json` file or from a NodeFlow PNG."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".png":
            return read_png_workflow(path)
        return path.read_text(encoding="utf-8-sig")  # a byte order mark is skipped
    except OSError as exc:
        raise WorkflowFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise WorkflowFormatError(f"{path} is not a text file") from None


def read_png_workflow(path: Path) -> str:
    """The workflow a NodeFlow PNG carries. Pillow stops text chunks at 1 MiB; a big workflow
    (NodeFlow writes it compressed) is read up to MAX_PNG_WORKFLOW, a bound that still keeps a
    hostile PNG from inflating without end."""
    from PIL import Image, PngImagePlugin, UnidentifiedImageError

    with _PNG_LIMIT_LOCK:
        previous = PngImagePlugin.MAX_TEXT_CHUNK
        PngImagePlugin.MAX_TEXT_CHUNK = max(previous, MAX_PNG_WORKFLOW)
        try:
            with Image.open(path) as image:
                text = image.text.get(PNG_WORKFLOW_KEY) if hasattr(image, "text") else None
        except (UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise WorkflowFormatError(f"{path} is not a readable PNG: {exc}") from None
        finally:
            PngImagePlugin.MAX_TEXT_CHUNK = previous
    if text is None:
        raise WorkflowFormatError(f"{path} carries no NodeFlow workflow")
    return text


def load(path: Path, registry: Registry) -> tuple[Graph, workflow.LoadReport]:
    return workflow.loads(read_text(path), registry)


def save(graph: Graph, path: Path) -> None:
    write_atomic(path, workflow.dumps(graph))
