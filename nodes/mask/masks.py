"""Mask nodes: solid masks, masks from pictures and colours, thresholds, inversion. MASK is [B, H, W], 1 = repaint."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import BOOLEAN, FLOAT, IMAGE, INT, MASK, STRING


class SolidMask(Node):
    type_id = "mask.solid"
    title = "Solid Mask"
    category = "mask"
    description = "A width x height mask with every pixel at `value` (1 = repaint everywhere, 0 = nowhere)."
    inputs = (
        Input("value", FLOAT, default=1.0, min=0.0, max=1.0, step=0.01),
        Input("width", INT, default=512, min=1, max=16384),
        Input("height", INT, default=512, min=1, max=16384),
    )
    outputs = (Output("mask", MASK),)

    def run(self, ctx: RunContext, value: float, width: int, height: int) -> tuple[Any]:
        import torch

        return (torch.full((1, height, width), float(value), dtype=torch.float32),)


class ImageToMask(Node):
    type_id = "mask.from_image"
    title = "Mask from Image"
    category = "mask"
    description = "One channel of a picture as a mask (e.g. a black-and-white mask image: white = repaint)."
    inputs = (Input("image", IMAGE), Input("channel", STRING, default="red",
                                             choices=("red", "green", "blue", "luminance")))
    outputs = (Output("mask", MASK),)

    def run(self, ctx: RunContext, image: Any, channel: str) -> tuple[Any]:
        if channel == "luminance":
            r, g, b = image[..., 0], image[..., 1], image[..., 2]
            return ((0.299 * r + 0.587 * g + 0.114 * b).contiguous(),)
        return (image[..., ("red", "green", "blue").index(channel)].contiguous(),)


class MaskFromColor(Node):
    type_id = "mask.from_color"
    title = "Mask from Colour"
    category = "mask"
    description = "1 where a pixel has the given colour (#rrggbb), within a tolerance in 0-255 units per channel."
    inputs = (
        Input("image", IMAGE),
        Input("color", STRING, default="#ffffff"),
        Input("tolerance", INT, default=0, min=0, max=255),
    )
    outputs = (Output("mask", MASK),)

    def run(self, ctx: RunContext, image: Any, color: str, tolerance: int) -> tuple[Any]:
        import torch

        text = color.strip().lstrip("#")
        try:
            if len(text) != 6:
                raise ValueError
            rgb = [int(text[i:i + 2], 16) for i in (0, 2, 4)]
        except ValueError:
            raise NodeError(f"'{color}' is not a colour like #ff8800", "color") from None
        pixels = (image[..., :3] * 255).round()
        target = torch.tensor(rgb, dtype=pixels.dtype)
        return (((pixels - target).abs() <= tolerance).all(dim=-1).to(torch.float32),)


class MaskThreshold(Node):
    type_id = "mask.threshold"
    title = "Mask Threshold"
    category = "mask"
    description = ("A hard mask: 1 where the mask is at least the threshold (only above it when inclusive is off, "
                   "as ComfyUI's Threshold Mask), 0 elsewhere.")
    inputs = (
        Input("mask", MASK),
        Input("threshold", FLOAT, default=0.5, min=0.0, max=1.0, step=0.01),
        Input("inclusive", BOOLEAN, default=True, help="Whether a mask value equal to the threshold becomes 1."),
    )
    outputs = (Output("mask", MASK),)

    def run(self, ctx: RunContext, mask: Any, threshold: float, inclusive: bool = True) -> tuple[Any]:
        import torch

        return ((mask >= threshold if inclusive else mask > threshold).to(torch.float32),)


class InvertMask(Node):
    type_id = "mask.invert"
    title = "Invert Mask"
    category = "mask"
    description = "Swaps what is kept and what is repainted (1 - mask)."
    inputs = (Input("mask", MASK),)
    outputs = (Output("mask", MASK),)

    def run(self, ctx: RunContext, mask: Any) -> tuple[Any]:
        return (1.0 - mask,)
