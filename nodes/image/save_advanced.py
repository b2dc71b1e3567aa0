"""Save Image (Advanced): PNG in 8 or 16 bits per channel, with the workflow embedded.

Pillow writes 8-bit RGB PNGs but not 16-bit colour ones, so those are written here: the PNG format
(RFC 2083) is a signature and length-type-data-CRC chunks, IHDR, the text chunks, zlib-compressed
scanlines each led by filter byte 0, IEND.
"""

from __future__ import annotations

import struct
import zlib
from functools import partial
from typing import Any, BinaryIO

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import IMAGE, STRING
from nodes.image.load_save import png_info

BIT_DEPTHS = ("8-bit", "16-bit")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png16(array: Any, chunks: list[tuple[bytes, bytes]], handle: BinaryIO) -> None:
    """A uint16 [H, W, 3 or 4] numpy array as a 16-bit RGB(A) PNG with extra `chunks` before IDAT."""
    height, width, channels = array.shape
    colour_type = {3: 2, 4: 6}[channels]
    big_endian = array.astype(">u2")
    raw = b"".join(b"\x00" + big_endian[y].tobytes() for y in range(height))
    handle.write(PNG_SIGNATURE)
    handle.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)))
    for kind, data in chunks:
        handle.write(_chunk(kind, data))
    handle.write(_chunk(b"IDAT", zlib.compress(raw, 6)))
    handle.write(_chunk(b"IEND", b""))


class SaveImageAdvanced(Node):
    type_id = "image.save_advanced"
    title = "Save Image (Advanced)"
    category = "image"
    description = (
        "Saves PNGs as '<prefix>_<counter>.png' in the output folder (never overwriting), in 8 or 16 bits "
        "per channel, each carrying the workflow that made it. Values are clipped to [0, 1] and truncated to "
        "whole levels, as ComfyUI does. The input is taken as sRGB (the only colour space PNG is given here)."
    )
    is_output = True
    inputs = (
        Input("images", IMAGE),
        Input("filename_prefix", STRING, default="nodeflow", output_prefix=True),
        Input("format", STRING, default="png", choices=("png",)),
        Input("bit_depth", STRING, default="8-bit", choices=BIT_DEPTHS),
        Input("input_color_space", STRING, default="sRGB", choices=("sRGB",)),
    )
    outputs = (Output("images", IMAGE),)

    def run(self, ctx: RunContext, images: Any, filename_prefix: str, format: str, bit_depth: str,
            input_color_space: str) -> tuple[Any]:
        import numpy as np

        from nodeflow.core.files import SAVED_PATH_INFO
        from nodes._tensors import image_to_pils

        if images.shape[-1] not in (3, 4):
            raise NodeError(f"pictures with {images.shape[-1]} channels cannot be saved as PNG", "images")
        shown = image_to_pils(images[..., :3], "truncate")
        arrays = np.clip(images.detach().cpu().float().numpy(), 0.0, 1.0)
        for array, pil in zip(arrays, shown, strict=True):
            info = png_info(ctx)
            if bit_depth == "16-bit":
                levels = (array * 65535).astype(np.uint16)
                chunks = [(kind, data) for kind, data, *_ in info.chunks]
                path = ctx.write_output(filename_prefix, ".png", partial(write_png16, levels, chunks))
            else:
                from PIL import Image

                picture = Image.fromarray((array * 255).astype(np.uint8))
                path = ctx.write_output(filename_prefix, ".png", partial(_save, picture, info))
            ctx.report(f"saved {path}")
            pil.info[SAVED_PATH_INFO] = str(path)
        ctx.show_images(shown)
        return (images,)


def _save(picture: Any, info: Any, handle: BinaryIO) -> None:
    picture.save(handle, format="PNG", pnginfo=info, compress_level=4)
