"""Mask editing nodes: to a picture, grow/shrink, feather the edges, combine. MASK is [B, H, W]."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import BOOLEAN, IMAGE, INT, MASK, STRING

COMPOSITE_OPERATIONS = ("multiply", "add", "subtract", "and", "or", "xor")


def as_bhw(mask: Any) -> Any:
    """A MASK as [B, H, W] (single masks may arrive as [H, W])."""
    return mask[None] if mask.ndim == 2 else mask


class MaskToImage(Node):
    type_id = "mask.to_image"
    title = "Mask to Image"
    category = "mask"
    description = "Shows a mask as a grey picture (1 = white), e.g. to save or preview it."
    inputs = (Input("mask", MASK),)
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, mask: Any) -> tuple[Any]:
        return (as_bhw(mask)[..., None].expand(-1, -1, -1, 3).contiguous(),)


def grow(mask: Any, pixels: int, tapered_corners: bool) -> Any:
    """Grey dilation (pixels > 0) or erosion (< 0), one pixel per round with a 3x3 neighbourhood:
    the full square, or with tapered corners the cross (so corners round off). Edges repeat."""
    import torch
    import torch.nn.functional as F

    x = as_bhw(mask).float()[:, None]
    sign = 1.0 if pixels > 0 else -1.0
    x = x * sign
    for _ in range(abs(pixels)):
        padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
        if tapered_corners:
            H, W = x.shape[-2:]
            shifts = [padded[..., 1:H + 1, 1:W + 1], padded[..., 0:H, 1:W + 1], padded[..., 2:H + 2, 1:W + 1],
                      padded[..., 1:H + 1, 0:W], padded[..., 1:H + 1, 2:W + 2]]
            x = torch.stack(shifts).amax(dim=0)
        else:
            x = F.max_pool2d(padded, kernel_size=3, stride=1)
    return (x * sign)[:, 0]


class GrowMask(Node):
    type_id = "mask.grow"
    title = "Grow Mask"
    category = "mask"
    description = (
        "Grows the mask outwards by 'expand' pixels (negative: shrinks it), one pixel per round "
        "taking the largest value among the 3x3 neighbours (smallest to shrink). tapered_corners "
        "leaves out the diagonal neighbours, so corners come out rounded instead of square."
    )
    inputs = (
        Input("mask", MASK),
        Input("expand", INT, default=0, min=-16384, max=16384),
        Input("tapered_corners", BOOLEAN, default=True),
    )
    outputs = (Output("mask", MASK),)

    def run(self, ctx: RunContext, mask: Any, expand: int, tapered_corners: bool) -> tuple[Any]:
        return (grow(mask, int(expand), bool(tapered_corners)),)


class FeatherMask(Node):
    type_id = "mask.feather"
    title = "Feather Mask"
    category = "mask"
    description = (
        "Fades the mask out towards the picture's edges: the outermost 'left' columns are multiplied "
        "by 1/left, 2/left, ... up to 1 going inwards; likewise top, right and bottom."
    )
    inputs = (
        Input("mask", MASK),
        Input("left", INT, default=0, min=0, max=16384),
        Input("top", INT, default=0, min=0, max=16384),
        Input("right", INT, default=0, min=0, max=16384),
        Input("bottom", INT, default=0, min=0, max=16384),
    )
    outputs = (Output("mask", MASK),)

    def run(self, ctx: RunContext, mask: Any, left: int, top: int, right: int, bottom: int) -> tuple[Any]:
        out = as_bhw(mask).clone()
        H, W = out.shape[-2:]
        for t in range(min(left, W)):
            out[:, :, t] *= (t + 1) / left
        for t in range(min(right, W)):
            out[:, :, W - 1 - t] *= (t + 1) / right
        for t in range(min(top, H)):
            out[:, t, :] *= (t + 1) / top
        for t in range(min(bottom, H)):
            out[:, H - 1 - t, :] *= (t + 1) / bottom
        return (out,)


class MaskComposite(Node):
    type_id = "mask.composite"
    title = "Mask Composite"
    category = "mask"
    description = (
        "Combines 'source' into 'destination' with its top-left corner at (x, y): multiply, add, "
        "subtract, or the logical and/or/xor of the masks rounded to 0/1. The result is kept "
        "within 0..1; outside the source's rectangle the destination is unchanged."
    )
    inputs = (
        Input("destination", MASK),
        Input("source", MASK),
        Input("x", INT, default=0, min=0, max=16384),
        Input("y", INT, default=0, min=0, max=16384),
        Input("operation", STRING, default="multiply", choices=COMPOSITE_OPERATIONS),
    )
    outputs = (Output("mask", MASK),)

    def run(self, ctx: RunContext, destination: Any, source: Any, x: int, y: int, operation: str) -> tuple[Any]:
        import torch

        out = as_bhw(destination).clone().float()
        src = as_bhw(source).float()
        H, W = out.shape[-2:]
        if x >= W or y >= H:
            raise NodeError(f"({x}, {y}) is outside the {W}x{H} destination", "x")
        h, w = min(src.shape[-2], H - y), min(src.shape[-1], W - x)
        if src.shape[0] != out.shape[0]:
            if src.shape[0] != 1 and out.shape[0] != 1:
                raise NodeError(f"{src.shape[0]} source masks for {out.shape[0]} destinations", "source")
            n = max(src.shape[0], out.shape[0])
            src, out = src.expand(n, -1, -1), out.expand(n, -1, -1).clone()
        region = out[:, y:y + h, x:x + w]
        part = src[:, :h, :w]
        if operation == "multiply":
            value = region * part
        elif operation == "add":
            value = region + part
        elif operation == "subtract":
            value = region - part
        elif operation in ("and", "or", "xor"):
            op = {"and": torch.logical_and, "or": torch.logical_or, "xor": torch.logical_xor}[operation]
            value = op(region.round().bool(), part.round().bool()).float()
        else:
            raise NodeError(f"unknown operation '{operation}'", "operation")
        region[...] = value
        return (out.clamp(0.0, 1.0),)
