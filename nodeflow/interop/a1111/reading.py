"""Where a picture keeps its A1111 parameters: a PNG text chunk, or the EXIF UserComment of a JPEG
or WebP (what A1111 and Forge write for those formats), which starts with an 8-byte character
code: "UNICODE\\0" and UTF-16 (big-endian as A1111 writes it; little-endian from some tools),
"ASCII\\0\\0\\0", or nothing.
"""

from __future__ import annotations

from pathlib import Path

from nodeflow.core.files import PNG_PARAMETERS_KEY

EXIF_IFD, USER_COMMENT = 0x8769, 0x9286


def parameters_in(path: Path) -> str | None:
    """The parameters text a picture carries, or None (not a picture, or none there)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            text = (getattr(image, "text", None) or {}).get(PNG_PARAMETERS_KEY) if image.format == "PNG" else None
            if text is None and isinstance(image.info.get(PNG_PARAMETERS_KEY), str):
                text = image.info[PNG_PARAMETERS_KEY]
            if text is None:
                comment = image.getexif().get_ifd(EXIF_IFD).get(USER_COMMENT)
                text = user_comment(comment) if comment is not None else None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    return text if text and text.strip() else None


def user_comment(value: bytes | str) -> str | None:
    """The text of an EXIF UserComment."""
    if isinstance(value, str):
        return value
    code, body = value[:8], value[8:]
    if code == b"UNICODE\0":
        if len(body) >= 2 and body[0] == 0 and body[1] != 0:
            return body.decode("utf-16-be", "replace")
        if len(body) >= 2 and body[1] == 0 and body[0] != 0:
            return body.decode("utf-16-le", "replace")
        return body.decode("utf-16-be", "replace")
    if code in (b"ASCII\0\0\0", b"\0" * 8):
        return body.decode("utf-8", "replace").rstrip("\0")
    return value.decode("utf-8", "replace").rstrip("\0")
