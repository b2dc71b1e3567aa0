"""Reading and writing workflow files on disk, including workflows embedded in PNG images.

Saving is atomic (`core.atomic`: temp file in the same folder, then rename), so a crash or a full
disk never leaves a half-written workflow where the user's file was.
"""

from __future__ import annotations

import threading
import zlib
from pathlib import Path
from typing import Any

from nodeflow.core import workflow
from nodeflow.core.atomic import write_atomic
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.graph import Graph
from nodeflow.core.reads import ReadRefused, read_bounded
from nodeflow.core.registry import Registry

#: The PNG text chunk that carries the workflow that made the image.
PNG_WORKFLOW_KEY = "nodeflow-workflow"
#: NodeFlow's own PNG chunk (ancillary, private, safe to copy) for workflows over PNG_TEXT_LIMIT.
PNG_WORKFLOW_CHUNK = b"nfWf"
#: Largest workflow (UTF-8 bytes) written as a text chunk: Pillow opens text chunks up to 1 MiB.
PNG_TEXT_LIMIT = 1024 * 1024 - 4096
#: The largest workflow (UTF-8 bytes) a saved PNG carries, and what reading one accepts.
MAX_PNG_WORKFLOW = 32 * 1024 * 1024
_PNG_LIMIT_LOCK = threading.Lock()
#: The largest workflow file read (bytes): a 200,000-node workflow is about 30 MB.
MAX_WORKFLOW_BYTES = 256 * 1024 * 1024
#: The PNG text chunk with the main parameters (prompt, seed, steps...) in readable form.
PNG_PARAMETERS_KEY = "parameters"
#: Key in a shown PIL image's `info` naming the file a saver wrote it to (the GUI's viewer reads it).
SAVED_PATH_INFO = "nodeflow-saved-path"
#: The video and sound files savers write (and loaders read), by suffix, with their media type:
#: how a saved file is told apart from a picture where it is reported (`nodeflow serve`'s history:
#: ComfyUI lists videos with the pictures, marked "animated", and sound under "audio") and the type
#: it is served as (Python's own table lacks some of them).
MEDIA_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska", ".mov": "video/quicktime",
               ".flac": "audio/flac", ".mp3": "audio/mpeg", ".opus": "audio/ogg", ".ogg": "audio/ogg",
               ".wav": "audio/wav", ".m4a": "audio/mp4"}
VIDEO_SUFFIXES = tuple(suffix for suffix, kind in MEDIA_TYPES.items() if kind.startswith("video/"))
AUDIO_SUFFIXES = tuple(suffix for suffix, kind in MEDIA_TYPES.items() if kind.startswith("audio/"))
#: Key in a shown PIL image's `info` marking it side "a" or "b" of a pair the viewer shows with a
#: divider (Image Compare); the two are shown together, "a" first.
COMPARE_INFO = "nodeflow-compare"


def read_text(path: Path) -> str:
    """Workflow JSON text from a `.json` file (up to MAX_WORKFLOW_BYTES; never from a FIFO or
    device) or from a NodeFlow PNG."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".png":
            return read_png_workflow(path)
        return read_bounded(path, MAX_WORKFLOW_BYTES, "workflow file").decode("utf-8-sig")  # BOM skipped
    except ReadRefused as exc:
        raise WorkflowFormatError(str(exc)) from None
    except UnicodeDecodeError:
        raise WorkflowFormatError(f"{path} is not a text file") from None


def read_png_workflow(path: Path) -> str:
    """The workflow a NodeFlow PNG carries."""
    text = embedded_texts(path).get(PNG_WORKFLOW_KEY)
    if text is None:
        raise WorkflowFormatError(f"{path} carries no NodeFlow workflow")
    return text


def embed_workflow(info: Any, text: str) -> None:
    """Put a workflow into a PNG's chunks (`info`: a PIL PngInfo).

    Up to PNG_TEXT_LIMIT it is an ordinary compressed text chunk that any PNG tool can show; a
    bigger one goes into NodeFlow's own compressed chunk, because Pillow (and programs built on it)
    refuses to open a PNG whose text chunk inflates past 1 MiB, while every reader skips a
    private chunk it does not know.
    """
    data = text.encode("utf-8")
    if len(data) <= PNG_TEXT_LIMIT:
        info.add_text(PNG_WORKFLOW_KEY, text, zip=True)
    else:
        info.add(PNG_WORKFLOW_CHUNK, zlib.compress(data, 6))


def embedded_texts(path: Path) -> dict[str, str]:
    """The texts an image carries: PNG text chunks (read up to MAX_PNG_WORKFLOW each, not Pillow's
    1 MiB), NodeFlow's own workflow chunk, and the 'workflow:' / 'prompt:' strings ComfyUI puts
    in a WebP's EXIF. Raises WorkflowFormatError for a file that is not a readable image."""
    from PIL import Image, PngImagePlugin, UnidentifiedImageError

    with _PNG_LIMIT_LOCK:
        previous = PngImagePlugin.MAX_TEXT_CHUNK
        PngImagePlugin.MAX_TEXT_CHUNK = max(previous, MAX_PNG_WORKFLOW)
        try:
            with Image.open(path) as image:
                texts = {str(k): str(v) for k, v in (getattr(image, "text", {}) or {}).items()}
                for cid, data, *_ in getattr(image, "private_chunks", ()):
                    if cid == PNG_WORKFLOW_CHUNK and PNG_WORKFLOW_KEY not in texts:
                        texts[PNG_WORKFLOW_KEY] = _inflate(data, path)
                for value in image.getexif().values():
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str) and value.partition(":")[0] in ("workflow", "prompt"):
                        key, _, text = value.partition(":")
                        texts.setdefault(key, text)
        except (UnidentifiedImageError, SyntaxError, ValueError, OSError, Image.DecompressionBombError) as exc:
            raise WorkflowFormatError(f"{path} is not a readable image: {' '.join(str(exc).split())[:200]}"
                                      ) from None
        finally:
            PngImagePlugin.MAX_TEXT_CHUNK = previous
    return texts


def _inflate(data: bytes, path: Path) -> str:
    """A compressed chunk's text, refusing one that inflates past MAX_PNG_WORKFLOW."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data, MAX_PNG_WORKFLOW)
    except zlib.error as exc:
        raise WorkflowFormatError(f"{path}: the embedded workflow is damaged ({exc})") from None
    if inflater.unconsumed_tail:
        raise WorkflowFormatError(f"{path}: the embedded workflow is larger than {MAX_PNG_WORKFLOW // 2**20} MiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WorkflowFormatError(f"{path}: the embedded workflow is not UTF-8 text") from None


def load(path: Path, registry: Registry) -> tuple[Graph, workflow.LoadReport]:
    return workflow.loads(read_text(path), registry)


def save(graph: Graph, path: Path) -> None:
    write_atomic(path, workflow.dumps(graph))
