"""Image editing nodes: scale by a factor, invert, blur, crop, pad for outpainting, batch. IMAGE is [B, H, W, C]."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.types import FLOAT, IMAGE, INT, MASK, STRING
from nodes.image._resize import fit_image
from nodes.image.load_save import SCALE_METHODS, ImageScale


class ImageScaleBy(Node):
    type_id = "image.scale_by"
    title = "Image Scale By"
    category = "image"
    description = (
        "Resizes pictures by a factor (1.5 = half as big again), with the same filters as Image "
        "Scale. The new size is rounded to whole pixels."
    )
    inputs = (
        Input("image", IMAGE),
        Input("method", STRING, default="lanczos", choices=SCALE_METHODS),
        Input("scale_by", FLOAT, default=1.0, min=0.01, max=8.0, step=0.01),
    )
    outputs = (Output("image", IMAGE),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        """The pictures coming in, scale_by times as wide and as high."""
        size, scale = sizes.get("image"), params.get("scale_by")
        if size is None or not isinstance(scale, (int, float)):
            return super().output_size(params, sizes)
        return replace(size, pixels=round(size.pixels * scale * scale), field="scale_by")

    def run(self, ctx: RunContext, image: Any, method: str, scale_by: float) -> tuple[Any]:
        width, height = round(image.shape[2] * scale_by), round(image.shape[1] * scale_by)
        if width < 1 or height < 1:
            raise NodeError("the result would be empty", "scale_by")
        return ImageScale().run(ctx, image, width, height, method, "disabled")


class ImageInvert(Node):
    type_id = "image.invert"
    title = "Image Invert"
    category = "image"
    description = "A negative of the picture: every channel becomes 1 - value."
    inputs = (Input("image", IMAGE),)
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image: Any) -> tuple[Any]:
        return (1.0 - image,)


class ImageBlur(Node):
    type_id = "image.blur"
    title = "Image Blur"
    category = "image"
    description = ("A Gaussian blur of 2 x radius + 1 pixels square, edges mirrored. As ComfyUI's Image Blur, the "
                   "kernel spans -1..1 whatever the radius, so sigma is a share of the radius (1: the radius is "
                   "one standard deviation) and a larger radius at the same sigma blurs more.")
    inputs = (Input("image", IMAGE),
              Input("radius", INT, default=1, min=1, max=31),
              Input("sigma", FLOAT, default=1.0, min=0.1, max=10.0, step=0.1))
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image: Any, radius: int, sigma: float) -> tuple[Any]:
        import torch
        import torch.nn.functional as F

        size = 2 * radius + 1
        if min(image.shape[1:3]) <= radius:
            raise NodeError(f"a radius of {radius} needs a picture wider and taller than {radius} pixels "
                            f"(this one is {image.shape[2]}x{image.shape[1]})", "radius")
        x = torch.linspace(-1.0, 1.0, size, dtype=torch.float32)
        ramp = torch.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2.0 * sigma * sigma))
        kernel = (ramp / ramp.sum()).to(image.device, image.dtype)
        channels = image.shape[-1]
        pictures = F.pad(image.permute(0, 3, 1, 2), (radius,) * 4, mode="reflect")
        out = F.conv2d(pictures, kernel.expand(channels, 1, size, size), groups=channels)
        return (out.permute(0, 2, 3, 1).contiguous(),)


class ImageCrop(Node):
    type_id = "image.crop"
    title = "Image Crop"
    category = "image"
    description = (
        "Cuts out a width x height rectangle whose top-left corner is at (x, y). A rectangle that "
        "runs past the picture's edge is cut at the edge; a corner past it moves to the last pixel."
    )
    inputs = (
        Input("image", IMAGE),
        Input("width", INT, default=512, min=1, max=16384),
        Input("height", INT, default=512, min=1, max=16384),
        Input("x", INT, default=0, min=0, max=16384),
        Input("y", INT, default=0, min=0, max=16384),
    )
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image: Any, width: int, height: int, x: int, y: int) -> tuple[Any]:
        x, y = min(x, image.shape[2] - 1), min(y, image.shape[1] - 1)
        return (image[:, y:y + height, x:x + width, :].clone(),)


def outpaint_mask(height: int, width: int, top: int, left: int, bottom: int, right: int,
                  feathering: int) -> Any:
    """The mask for a picture padded on some sides: 1 on the padding, and inside the original a
    fade over `feathering` pixels next to each padded side, ((feathering - d) / feathering) ** 2 at
    distance d from that side, so the new content blends into the old."""
    import torch

    H, W = height + top + bottom, width + left + right
    mask = torch.ones((H, W), dtype=torch.float32)
    rows = torch.arange(height, dtype=torch.float32)[:, None]
    cols = torch.arange(width, dtype=torch.float32)[None, :]
    big = float(max(height, width))
    distance = torch.full((height, width), big)
    for padded, d in ((top, rows), (bottom, height - rows), (left, cols), (right, width - cols)):
        if padded:
            distance = torch.minimum(distance, d.expand(height, width))
    inner = torch.where(distance < feathering, ((feathering - distance) / max(feathering, 1)) ** 2,
                        torch.zeros_like(distance))
    mask[top:top + height, left:left + width] = inner
    return mask


class ImagePadForOutpaint(Node):
    type_id = "image.pad_for_outpaint"
    title = "Image Pad for Outpaint"
    category = "image"
    description = (
        "Adds grey borders around pictures for outpainting, and a MASK that is 1 on the borders "
        "(to repaint) and 0 on the original. feathering (pixels) lets the mask fade into the "
        "original next to each padded side, as ((feathering - d) / feathering)^2 at distance d "
        "from that side, so the new content blends in. Feed both to VAE Encode for Inpaint."
    )
    inputs = (
        Input("image", IMAGE),
        Input("left", INT, default=0, min=0, max=16384, step=8),
        Input("top", INT, default=0, min=0, max=16384, step=8),
        Input("right", INT, default=0, min=0, max=16384, step=8),
        Input("bottom", INT, default=0, min=0, max=16384, step=8),
        Input("feathering", INT, default=40, min=0, max=16384),
    )
    outputs = (Output("image", IMAGE), Output("mask", MASK))

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        """The pictures coming in with the borders added (their sides taken as square: only their
        pixels are known before the run)."""
        size = sizes.get("image")
        sides = [params.get(k) for k in ("left", "top", "right", "bottom")]
        if size is None or not all(isinstance(v, int) for v in sides):
            return super().output_size(params, sizes)
        side = math.isqrt(size.pixels)
        left, top, right, bottom = sides
        field = ("left", "top", "right", "bottom")[sides.index(max(sides))]
        return replace(size, pixels=(side + left + right) * (side + top + bottom), field=field)

    def run(self, ctx: RunContext, image: Any, left: int, top: int, right: int, bottom: int,
            feathering: int) -> tuple[Any, Any]:
        import torch

        b, h, w, c = image.shape
        out = torch.full((b, h + top + bottom, w + left + right, c), 0.5, dtype=image.dtype)
        out[:, top:top + h, left:left + w] = image
        mask = outpaint_mask(h, w, top, left, bottom, right, feathering)
        return out, mask[None].expand(b, -1, -1).contiguous()


class ImageBatch(Node):
    type_id = "image.batch"
    title = "Image Batch"
    category = "image"
    description = (
        "Joins two sets of pictures into one batch (image_1's first). image_2 is resized "
        "(bilinear, centre crop) to image_1's size when they differ."
    )
    inputs = (Input("image_1", IMAGE), Input("image_2", IMAGE))
    outputs = (Output("image", IMAGE),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        return FlowSize.joined(sizes, "image_2")

    def run(self, ctx: RunContext, image_1: Any, image_2: Any) -> tuple[Any]:
        import torch

        if image_1.shape[-1] != image_2.shape[-1]:
            raise NodeError(f"the pictures have {image_1.shape[-1]} and {image_2.shape[-1]} channels", "image_2")
        image_2 = fit_image(image_2, image_1.shape[1], image_1.shape[2])
        return (torch.cat([image_1, image_2.to(image_1.dtype)]),)
