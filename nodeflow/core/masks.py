"""How a painted mask is stored inside a workflow: one compact PNG as a `data:` URL string.

A mask painted in the editor must travel with the workflow file, so a workflow shared with someone
else shows (and uses) the same mask there. It is kept as a parameter value: an 8-bit greyscale PNG
(255 = repaint, 0 = keep), or a 1-bit PNG when the mask has only those two values, base64-encoded
behind `data:image/png;base64,`. Both the GUI (which paints it) and the Load Image node (which
outputs it as MASK) go through these two functions, so the format is decided here only.

Pillow is imported inside the functions: loading and validating workflows stays instant.
"""

from __future__ import annotations

import base64
import binascii
import io
from functools import lru_cache

PREFIX = "data:image/png;base64,"
#: Refuse absurd sizes before decoding (a crafted PNG must not allocate gigabytes).
MAX_SIDE = 16384


def encode_mask(width: int, height: int, pixels: bytes) -> str:
    """The stored form of a `width` x `height` mask given as row-major 8-bit values (255 = repaint)."""
    from PIL import Image

    if len(pixels) != width * height:
        raise ValueError(f"{len(pixels)} mask bytes for a {width}x{height} mask")
    image = Image.frombytes("L", (width, height), bytes(pixels))
    if not any(image.histogram()[1:255]):  # only 0 and 255: one bit per pixel is enough
        image = image.convert("1", dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_mask(text: str) -> tuple[int, int, bytes]:
    """(width, height, row-major 8-bit values) of a stored mask, or ValueError saying what is wrong."""
    from PIL import Image, UnidentifiedImageError

    if not text.startswith(PREFIX):
        raise ValueError(f"a painted mask must start with '{PREFIX}'")
    try:
        data = base64.b64decode(text[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the painted mask is not valid base64") from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ValueError(f"the painted mask is a {image.format}, not a PNG")
            if max(image.size) > MAX_SIDE:
                raise ValueError(f"the painted mask is {image.width}x{image.height}, larger than {MAX_SIDE}")
            grey = image.convert("L")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"the painted mask is not a readable PNG ({exc})") from None
    return grey.width, grey.height, grey.tobytes()


def check_mask_text(text: object) -> None:
    """Validation hook for a mask parameter: empty (no mask painted) or a decodable stored mask."""
    if text in ("", None):
        return
    if not isinstance(text, str):
        raise ValueError(f"expected a stored mask, got {text!r}")
    decode_mask(text)


@lru_cache(maxsize=64)
def mask_summary(text: str) -> str:
    """A short description of a stored mask for widgets ("64x64, 23% painted"); cached because
    a node paints it often."""
    if not text:
        return "no mask painted"
    try:
        width, height, data = decode_mask(text)
    except ValueError as exc:
        return f"unreadable mask: {exc}"
    return f"{width}x{height}, {_painted_share(data):.0%} painted"


def _painted_share(data: bytes) -> float:
    """Share of the mask at or above 50% (a mask pixel counts as painted from 128 up)."""
    from PIL import Image

    histogram = Image.frombytes("L", (len(data), 1), data).histogram()
    return sum(histogram[128:]) / max(1, len(data))
