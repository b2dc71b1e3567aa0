"""Picture sizes: pick one from an aspect ratio, read one off a picture, resize to a pixel count,
a longest side or any of ComfyUI's Resize Image/Mask rules. IMAGE is [B, H, W, C], MASK [B, H, W]."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import ANY, FLOAT, IMAGE, INT, STRING
from nodes.image.load_save import SCALE_METHODS, ImageScale

#: ComfyUI's aspect ratio names and their width:height.
ASPECT_RATIOS: Mapping[str, tuple[int, int]] = {
    "1:1 (Square)": (1, 1), "2:3 (Portrait Photo)": (2, 3), "3:2 (Photo)": (3, 2),
    "3:4 (Portrait Standard)": (3, 4), "4:3 (Standard)": (4, 3), "9:16 (Portrait Widescreen)": (9, 16),
    "16:9 (Widescreen)": (16, 9), "21:9 (Ultrawide)": (21, 9),
}
#: Resize Image/Mask's rules (ComfyUI's resize_type names).
RESIZE_TYPES = ("scale by multiplier", "scale dimensions", "scale longer dimension", "scale shorter dimension",
                "scale width", "scale height", "scale total pixels", "match size", "scale to multiple")
#: Largest side a resize may make: what Image Scale allows.
MAX_SIDE = 16384
MEGAPIXEL = 1024 * 1024


def nearest_multiple(value: float, multiple: int) -> int:
    """`value` rounded to the nearest multiple of `multiple` (at least one multiple)."""
    return max(multiple, round(value / multiple) * multiple)


def resize(ctx: RunContext, picture: Any, width: int, height: int, method: str, crop: str = "disabled",
           field: str = "width") -> Any:
    """An IMAGE or MASK resized to width x height with Image Scale's filters."""
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise NodeError(f"the result would be {width} x {height} pixels; each side must be 1 to {MAX_SIDE}", field)
    if picture.ndim == 3:  # a mask: resized as a grey picture
        grey = picture[..., None].expand(*picture.shape, 3)
        return ImageScale().run(ctx, grey, width, height, method, crop)[0][..., 0].contiguous()
    return ImageScale().run(ctx, picture, width, height, method, crop)[0]


def _picture(value: Any, field: str) -> Any:
    if getattr(value, "ndim", None) not in (3, 4):
        raise NodeError(f"expects an IMAGE or a MASK, got {type(value).__name__}", field)
    return value


class ResolutionSelector(Node):
    type_id = "image.resolution_selector"
    title = "Resolution Selector"
    category = "image"
    pure = True
    description = ("A width and height for an aspect ratio and a number of megapixels (1 MP = 1024 x 1024 "
                   "pixels), each rounded to the nearest multiple of 'multiple'.")
    inputs = (
        Input("aspect_ratio", STRING, default="1:1 (Square)", choices=tuple(ASPECT_RATIOS)),
        Input("megapixels", FLOAT, default=1.0, min=0.1, max=16.0, step=0.1),
        Input("multiple", INT, default=8, min=1, max=128, step=4),
    )
    outputs = (Output("width", INT), Output("height", INT))

    def run(self, ctx: RunContext, aspect_ratio: str, megapixels: float, multiple: int) -> tuple[int, int]:
        w, h = ASPECT_RATIOS[aspect_ratio]
        width = math.sqrt(megapixels * MEGAPIXEL * w / h)
        return nearest_multiple(width, multiple), nearest_multiple(width * h / w, multiple)


class GetImageSize(Node):
    type_id = "image.get_size"
    title = "Get Image Size"
    category = "image"
    description = "The width, height and batch size of pictures (or masks)."
    inputs = (Input("image", ANY),)
    outputs = (Output("width", INT), Output("height", INT), Output("batch_size", INT))

    def run(self, ctx: RunContext, image: Any) -> tuple[int, int, int]:
        picture = _picture(image, "image")
        return int(picture.shape[2]), int(picture.shape[1]), int(picture.shape[0])


class ImageScaleToTotalPixels(Node):
    type_id = "image.scale_to_total_pixels"
    title = "Scale Image to Total Pixels"
    category = "image"
    description = ("Resizes pictures to about 'megapixels' (1 MP = 1024 x 1024 pixels), keeping the aspect "
                   "ratio; each side is rounded to a multiple of 'resolution_steps'.")
    inputs = (
        Input("image", IMAGE),
        Input("method", STRING, default="nearest-exact", choices=SCALE_METHODS),
        Input("megapixels", FLOAT, default=1.0, min=0.01, max=16.0, step=0.01),
        Input("resolution_steps", INT, default=1, min=1, max=256),
    )
    outputs = (Output("image", IMAGE),)

    @classmethod
    def picture_pixels(cls, params: Mapping[str, Any], pixels: int) -> int:
        megapixels = params.get("megapixels")
        return round(megapixels * MEGAPIXEL) if isinstance(megapixels, float) else pixels

    def run(self, ctx: RunContext, image: Any, method: str, megapixels: float, resolution_steps: int) -> tuple[Any]:
        h, w = image.shape[1:3]
        scale = math.sqrt(megapixels * MEGAPIXEL / (w * h))
        width = nearest_multiple(w * scale, resolution_steps)
        height = nearest_multiple(h * scale, resolution_steps)
        return (resize(ctx, image, width, height, method, field="megapixels"),)


class ImageScaleToMaxDimension(Node):
    type_id = "image.scale_to_max_dimension"
    title = "Scale Image to Max Dimension"
    category = "image"
    description = "Resizes pictures so that their longer side is 'largest_size', keeping the aspect ratio."
    inputs = (
        Input("image", IMAGE),
        Input("method", STRING, default="area", choices=SCALE_METHODS),
        Input("largest_size", INT, default=512, min=1, max=MAX_SIDE),
    )
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image: Any, method: str, largest_size: int) -> tuple[Any]:
        h, w = image.shape[1:3]
        scale = largest_size / max(w, h)
        width, height = max(1, round(w * scale)), max(1, round(h * scale))
        return (resize(ctx, image, width, height, method, field="largest_size"),)


class ResizeImageMask(Node):
    type_id = "image.resize_image_mask"
    title = "Resize Image/Mask"
    category = "image"
    description = (
        "Resizes pictures or masks by one rule: a multiplier, given dimensions (crop 'center' keeps the "
        "aspect ratio by cutting the excess), the longer or shorter side, the width or height alone, a "
        "number of megapixels, the size of 'match', or down to a multiple of 'multiple'."
    )
    inputs = (
        Input("input", ANY),
        Input("resize_type", STRING, default="scale dimensions", choices=RESIZE_TYPES),
        Input("multiplier", FLOAT, default=1.0, min=0.01, max=8.0, step=0.01),
        Input("width", INT, default=512, min=0, max=MAX_SIDE),
        Input("height", INT, default=512, min=0, max=MAX_SIDE),
        Input("crop", STRING, default="center", choices=("disabled", "center")),
        Input("longer_size", INT, default=512, min=0, max=MAX_SIDE),
        Input("shorter_size", INT, default=512, min=0, max=MAX_SIDE),
        Input("megapixels", FLOAT, default=1.0, min=0.01, max=16.0, step=0.01),
        Input("multiple", INT, default=8, min=1, max=MAX_SIDE),
        Input("match", ANY, optional=True, help="the picture or mask whose size 'match size' takes"),
        Input("scale_method", STRING, default="area", choices=SCALE_METHODS),
    )
    outputs = (Output("resized", ANY),)

    def run(self, ctx: RunContext, input: Any, resize_type: str, multiplier: float, width: int, height: int,
            crop: str, longer_size: int, shorter_size: int, megapixels: float, multiple: int, match: Any,
            scale_method: str) -> tuple[Any]:
        picture = _picture(input, "input")
        h, w = picture.shape[1:3]
        size, field = self._size(resize_type, w, h, multiplier, width, height, longer_size, shorter_size,
                                 megapixels, multiple, match)
        if size == (w, h):
            return (picture,)
        keep_ratio = resize_type in ("scale dimensions", "match size", "scale to multiple")
        return (resize(ctx, picture, *size, scale_method, crop if keep_ratio else "disabled", field),)

    @staticmethod
    def _size(resize_type: str, w: int, h: int, multiplier: float, width: int, height: int, longer_size: int,
              shorter_size: int, megapixels: float, multiple: int, match: Any) -> tuple[tuple[int, int], str]:
        """(new width, new height) and the field that set it."""
        def by(scale: float) -> tuple[int, int]:
            return max(1, round(w * scale)), max(1, round(h * scale))

        if resize_type == "scale by multiplier":
            return by(multiplier), "multiplier"
        if resize_type == "scale dimensions":
            if width == 0 and height == 0:
                return (w, h), "width"
            return (width or max(1, round(w * height / h)), height or max(1, round(h * width / w))), "width"
        if resize_type == "scale longer dimension":
            return by(longer_size / max(w, h)), "longer_size"
        if resize_type == "scale shorter dimension":
            return by(shorter_size / min(w, h)), "shorter_size"
        if resize_type == "scale width":
            return by(width / w), "width"
        if resize_type == "scale height":
            return by(height / h), "height"
        if resize_type == "scale total pixels":
            return by(math.sqrt(megapixels * MEGAPIXEL / (w * h))), "megapixels"
        if resize_type == "match size":
            target = _picture(match, "match")
            return (int(target.shape[2]), int(target.shape[1])), "match"
        return (max(multiple, w // multiple * multiple), max(multiple, h // multiple * multiple)), "multiple"


class ResizeAndPadImage(Node):
    type_id = "image.resize_and_pad"
    title = "Resize And Pad Image"
    category = "image"
    description = (
        "Fits pictures inside target_width x target_height keeping their aspect ratio (the scale the tighter "
        "side needs, sizes cut down to whole pixels), then pads them, centred, with white or black to "
        "exactly that size."
    )
    inputs = (
        Input("image", IMAGE),
        Input("target_width", INT, default=512, min=1, max=MAX_SIDE),
        Input("target_height", INT, default=512, min=1, max=MAX_SIDE),
        Input("padding_color", STRING, default="white", choices=("white", "black")),
        Input("interpolation", STRING, default="area", choices=("area", "bicubic", "nearest-exact", "bilinear",
                                                                "lanczos")),
    )
    outputs = (Output("image", IMAGE),)

    @classmethod
    def picture_pixels(cls, params: Mapping[str, Any], pixels: int) -> int:
        """Every picture comes out target_width x target_height."""
        width, height = params.get("target_width"), params.get("target_height")
        return width * height if isinstance(width, int) and isinstance(height, int) else pixels

    def run(self, ctx: RunContext, image: Any, target_width: int, target_height: int, padding_color: str = "white",
            interpolation: str = "area") -> tuple[Any]:
        import torch

        if getattr(image, "ndim", None) != 4:
            raise NodeError(f"expects an IMAGE batch [batch, height, width, channels], got {type(image).__name__}",
                            "image")
        b, h, w, c = image.shape
        scale = min(target_width / w, target_height / h)
        width, height = int(w * scale), int(h * scale)
        if width < 1 or height < 1:
            side = "target_height" if target_height / h < target_width / w else "target_width"  # the tighter one
            raise NodeError(f"a {w}x{h} picture fitted into {target_width}x{target_height} would be {width}x{height} "
                            "pixels; give the target more room", side)
        fitted = resize(ctx, image, width, height, interpolation, field="target_width")
        out = torch.full((b, target_height, target_width, c), 0.0 if padding_color == "black" else 1.0,
                         dtype=fitted.dtype)
        top, left = (target_height - height) // 2, (target_width - width) // 2
        out[:, top:top + height, left:left + width] = fitted
        return (out,)
