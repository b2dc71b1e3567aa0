"""/view and uploads: files inside the output, input and temp folders, and nowhere else.

A name is contained when the real path (symlinks resolved) of folder/subfolder/filename lies
inside the real path of the folder: absolute names, '..', NUL and backslashes are refused before
the file system is asked, and a symlink that leads out is refused after (ComfyUI checked the
path before resolving it, ComfyUI#12285). Uploaded pictures are decoded within a pixel budget;
uploaded video and sound files (named by their suffix, as ComfyUI's frontend uploads them for Load
Video and Load Audio through /upload/image) must open in FFmpeg with a video or sound stream. Uploads
are written atomically and never replace a different file unless the client asks (`overwrite`): a
clashing name becomes `name (1).ext`.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from nodeflow.core.atomic import atomic_file, write_atomic
from nodeflow.core.files import MEDIA_TYPES
from nodeflow.core.reads import contained_name
from nodeflow.serve.config import MAX_UPLOAD_PIXELS, ServeConfig

#: Served as downloads, never rendered: a picture folder must not become a web page.
ACTIVE_TYPES = {".html", ".htm", ".svg", ".xml", ".js", ".mjs", ".xhtml", ".css", ".pdf"}


class Refused(ValueError):
    """A file request outside the rules; the message is the reason (answered with 400/404)."""


def folder_of(config: ServeConfig, kind: str | None) -> Path:
    folders = {"output": config.out, "input": config.input_dir, "temp": config.temp_dir}
    if (kind or "output") not in folders:
        raise Refused(f"type must be one of {', '.join(folders)}")
    return folders[kind or "output"]


def contained(root: Path, subfolder: str, filename: str) -> Path:
    """The real path of root/subfolder/filename, or Refused if it is not inside root."""
    for part, what in ((subfolder, "subfolder"), (filename, "filename")):
        if part and not contained_name(part):
            raise Refused(f"{what} must be a relative name inside the folder (no '..', '/' at the start, NUL)")
    if not filename or PurePosixPath(filename).name != filename:
        raise Refused("filename must be a plain file name")
    base = root.resolve()
    target = (base / subfolder / filename).resolve()
    if not target.is_relative_to(base) or target == base:
        raise Refused("the name leads outside the folder")
    return target


def view_file(config: ServeConfig, kind: str | None, subfolder: str, filename: str) -> Path:
    target = contained(folder_of(config, kind), subfolder, filename)
    if not target.is_file():
        raise FileNotFoundError(filename)
    return target


def variant(path: Path, preview: str | None, channel: str | None) -> tuple[bytes, str] | None:
    """/view's `preview=webp;90` / `channel=rgb|a|rgba` re-encodings of a picture (None: the file as is)."""
    if not preview and channel in (None, "", "rgba"):
        return None
    with _open_bounded(path.read_bytes()) as image:
        image.load()
        if channel == "a":
            image = image.convert("RGBA").getchannel("A")
        elif channel == "rgb":
            image = image.convert("RGB")
        elif channel not in (None, "", "rgba"):
            raise Refused("channel must be rgb, a or rgba")
        fmt, _, quality = (preview or "png").partition(";")
        fmt = {"jpg": "jpeg"}.get(fmt.lower(), fmt.lower())
        if fmt not in ("webp", "jpeg", "png"):
            raise Refused("preview must be webp, jpeg or png (optionally ';quality')")
        if fmt == "jpeg" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format=fmt.upper(), quality=int(quality) if quality.isdigit() else 90)
    return buffer.getvalue(), f"image/{fmt}"


def _open_bounded(data: bytes) -> Image.Image:
    """A picture opened lazily, refused before decoding when it is over the pixel budget."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Refused(f"not a picture Pillow can read ({exc})") from None
    if image.width * image.height > MAX_UPLOAD_PIXELS:
        raise Refused(f"{image.width}x{image.height} is over the budget of {MAX_UPLOAD_PIXELS:,} pixels")
    return image


def check_picture(data: bytes) -> None:
    """The upload is a whole picture within the budget (header and data checked, nothing kept)."""
    with _open_bounded(data) as image:
        try:
            image.verify()
        except Exception as exc:  # Pillow raises many kinds for broken data
            raise Refused(f"the picture is damaged ({exc})") from None


def check_media(data: bytes) -> None:
    """The upload is a video or sound file FFmpeg opens, with a video or sound stream (its header is
    read; nothing is decoded or kept)."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not (container.streams.video or container.streams.audio):
                raise Refused("the file holds no video or sound stream")
    except av.error.FFmpegError as exc:
        raise Refused(f"not a video or sound file FFmpeg can read ({exc.strerror or exc})") from None


@dataclass(frozen=True)
class Saved:
    name: str
    subfolder: str
    kind: str

    def answer(self) -> dict[str, str]:
        return {"name": self.name, "subfolder": self.subfolder, "type": self.kind}


def save_upload(config: ServeConfig, data: bytes, filename: str, kind: str | None, subfolder: str,
                overwrite: bool) -> Saved:
    """Store an uploaded picture, video or sound file; the same bytes under the same name are not stored twice."""
    kind = kind or "input"
    if Path(filename).suffix.lower() in MEDIA_TYPES:
        check_media(data)
    else:
        check_picture(data)
    root = folder_of(config, kind)
    root.mkdir(parents=True, exist_ok=True)
    target = contained(root, subfolder, filename)
    target.parent.mkdir(parents=True, exist_ok=True)
    target = contained(root, subfolder, filename)  # the subfolder now exists: check its real path
    if overwrite:
        write_atomic(target, data)
        return Saved(target.name, subfolder, kind)
    stem, suffix = Path(filename).stem, Path(filename).suffix
    for count in range(0, 10_000):
        candidate = target.with_name(f"{stem} ({count}){suffix}" if count else filename)
        if candidate.is_file() and candidate.read_bytes() == data:
            return Saved(candidate.name, subfolder, kind)
        try:
            with atomic_file(candidate, exclusive=True) as handle:
                handle.write(data)
        except FileExistsError:
            continue
        return Saved(candidate.name, subfolder, kind)
    raise Refused(f"too many files called {filename}")


def merge_mask(config: ServeConfig, data: bytes, original_ref: str) -> bytes:
    """/upload/mask: the uploaded picture's alpha put into the original picture (PNG, its text kept)."""
    try:
        ref = json.loads(original_ref)
        source = view_file(config, ref.get("type") or "input", ref.get("subfolder") or "", ref["filename"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Refused("original_ref must be JSON {filename, subfolder, type} naming an existing picture") from None
    except FileNotFoundError:
        raise Refused("original_ref names a picture that does not exist") from None
    with _open_bounded(source.read_bytes()) as original, _open_bounded(data) as mask:
        info = PngImagePlugin.PngInfo()
        for key, value in getattr(original, "text", {}).items():
            info.add_text(key, value)
        merged = original.convert("RGBA")
        alpha = mask.convert("RGBA").getchannel("A").resize(merged.size)
        merged.putalpha(alpha)
        buffer = io.BytesIO()
        merged.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()
