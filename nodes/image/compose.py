"""Putting pictures together: alpha from a mask, side by side, batches, and their edges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.types import BOOLEAN, FLOAT, IMAGE, INT, MASK, STRING
from nodes.image._resize import fit_image
from nodes.image.sizes import resize

STITCH_COLOURS = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0), "red": (1.0, 0.0, 0.0),
                  "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0)}
#: Inputs Batch Images takes (ComfyUI's images.image0, images.image1, ...).
BATCH_INPUTS = tuple(f"image{n}" for n in range(16))


def _same_batch(a: Any, b: Any) -> tuple[Any, Any]:
    """Two batches of equal length: a batch of one is repeated to the other's length."""
    if a.shape[0] == b.shape[0]:
        return a, b
    if a.shape[0] == 1:
        return a.expand(b.shape[0], *a.shape[1:]), b
    if b.shape[0] == 1:
        return a, b.expand(a.shape[0], *b.shape[1:])
    raise NodeError(f"batches of {a.shape[0]} and {b.shape[0]} pictures cannot be paired", "image2")


class JoinImageWithAlpha(Node):
    type_id = "image.join_alpha"
    title = "Join Image with Alpha"
    category = "image"
    description = ("Adds an alpha channel from a mask: opacity is 1 - mask (a mask marks what is cut away, as "
                   "Load Image gives it). The mask is resized to the picture.")
    inputs = (Input("image", IMAGE), Input("alpha", MASK))
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image: Any, alpha: Any) -> tuple[Any]:
        import torch

        mask = alpha if alpha.ndim == 3 else alpha[None]
        if tuple(mask.shape[1:]) != tuple(image.shape[1:3]):
            mask = resize(ctx, mask, image.shape[2], image.shape[1], "bilinear")
        rgb, mask = _same_batch(image[..., :3], mask)
        return (torch.cat([rgb, (1.0 - mask)[..., None]], dim=-1),)


class ImageStitch(Node):
    type_id = "image.stitch"
    title = "Image Stitch"
    category = "image"
    description = ("Puts image2 to the right of, below, left of or above image1, with an optional gap of a "
                   "plain colour. 'match_image_size' scales image2 to image1's height (side by side) or width "
                   "(stacked), keeping its aspect ratio; otherwise the smaller is padded with black.")
    inputs = (
        Input("image1", IMAGE),
        Input("image2", IMAGE, optional=True),
        Input("direction", STRING, default="right", choices=("right", "down", "left", "up")),
        Input("match_image_size", BOOLEAN, default=True),
        Input("spacing_width", INT, default=0, min=0, max=1024, step=2),
        Input("spacing_color", STRING, default="white", choices=tuple(STITCH_COLOURS)),
    )
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image1: Any, image2: Any, direction: str, match_image_size: bool,
            spacing_width: int, spacing_color: str) -> tuple[Any]:
        import torch

        if image2 is None:
            return (image1,)
        across = direction in ("right", "left")
        axis = 2 if across else 1
        if match_image_size:
            h1, w1 = image1.shape[1:3]
            h2, w2 = image2.shape[1:3]
            size = (max(1, round(w2 * h1 / h2)), h1) if across else (w1, max(1, round(h2 * w1 / w2)))
            image2 = resize(ctx, image2, *size, "lanczos", field="match_image_size")
        first, second = _same_batch(image1[..., :3], image2[..., :3])
        side = 1 if across else 2  # the dimension the two must share
        extent = max(first.shape[side], second.shape[side])
        first, second = _pad_to(first, side, extent), _pad_to(second, side, extent)
        parts = [first, second] if direction in ("right", "down") else [second, first]
        if spacing_width:
            shape = list(first.shape)
            shape[axis] = spacing_width
            gap = torch.tensor(STITCH_COLOURS[spacing_color]).expand(*shape[:-1], 3)
            parts.insert(1, gap)
        return (torch.cat(parts, dim=axis).contiguous(),)


def _pad_to(image: Any, dim: int, extent: int) -> Any:
    """`image` padded with black at the end of dimension `dim` (1: height, 2: width) to `extent`."""
    import torch.nn.functional as F

    missing = extent - image.shape[dim]
    if missing <= 0:
        return image
    pad = (0, 0, 0, missing) if dim == 2 else (0, 0, 0, 0, 0, missing)
    return F.pad(image, pad)


class BatchImages(Node):
    type_id = "image.batch_many"
    title = "Batch Images"
    category = "image"
    description = ("One batch of the pictures linked to image0..image15, in that order; each is resized to the "
                   "first one's size (bilinear, centre crop) as Image Batch does.")
    inputs = tuple(Input(name, IMAGE, optional=True) for name in BATCH_INPUTS)
    outputs = (Output("image", IMAGE),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        return FlowSize.joined(sizes, max(sizes, key=lambda name: sizes[name].total_pixels, default="image0"))

    def run(self, ctx: RunContext, **images: Any) -> tuple[Any]:
        import torch

        linked = [images[name] for name in BATCH_INPUTS if images.get(name) is not None]
        if not linked:
            raise NodeError("no picture is linked", "image0")
        h, w = linked[0].shape[1:3]
        return (torch.cat([fit_image(image[..., :3], h, w) for image in linked], dim=0),)


class Canny(Node):
    type_id = "image.canny"
    title = "Canny"
    category = "image"
    description = ("Edges of pictures by the Canny method (white on black), e.g. for a ControlNet: gradients "
                   "above 'high_threshold' are edges, and those above 'low_threshold' that touch one.")
    inputs = (
        Input("image", IMAGE),
        Input("low_threshold", FLOAT, default=0.4, min=0.01, max=0.99, step=0.01),
        Input("high_threshold", FLOAT, default=0.8, min=0.01, max=0.99, step=0.01),
    )
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image: Any, low_threshold: float, high_threshold: float) -> tuple[Any]:
        from nodes.image._canny import canny

        if low_threshold > high_threshold:
            raise NodeError("must not be above high_threshold", "low_threshold")
        return (canny(image, low_threshold, high_threshold)[..., None].expand(-1, -1, -1, 3).contiguous(),)


#: Image Blend's modes (ComfyUI's Blend), each a function of the two pictures in [0, 1].
BLEND_MODES = ("normal", "multiply", "screen", "overlay", "soft_light", "difference")


class ImageBlend(Node):
    type_id = "image.blend"
    title = "Image Blend"
    category = "image"
    description = (
        "Mixes image2 into image1 by blend_factor (0: image1 alone, 1: the blend alone) with a layer blend mode: "
        "normal, multiply, screen, overlay, soft_light (the W3C formula) or difference (image1 - image2, cut at "
        "0). image2 is fitted to image1's size (bicubic, centre crop) and channels, as ComfyUI does."
    )
    inputs = (
        Input("image1", IMAGE),
        Input("image2", IMAGE),
        Input("blend_factor", FLOAT, default=0.5, min=0.0, max=1.0, step=0.01),
        Input("blend_mode", STRING, default="normal", choices=BLEND_MODES),
    )
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image1: Any, image2: Any, blend_factor: float, blend_mode: str) -> tuple[Any]:
        import torch

        channels = int(image1.shape[-1])
        if image2.shape[-1] > channels:
            image2 = image2[..., :channels]
        elif image2.shape[-1] < channels:  # image1 has alpha: image2 is opaque
            image2 = torch.cat([image2, torch.ones_like(image2[..., :1])], dim=-1)
        if image2.shape[1:3] != image1.shape[1:3]:
            image2 = resize(ctx, image2, int(image1.shape[2]), int(image1.shape[1]), "bicubic", "center", "image2")
        a, b = _same_batch(image1, image2.to(image1.dtype))
        if blend_mode == "multiply":
            blended = a * b
        elif blend_mode == "screen":
            blended = 1 - (1 - a) * (1 - b)
        elif blend_mode == "overlay":
            blended = torch.where(a <= 0.5, 2 * a * b, 1 - 2 * (1 - a) * (1 - b))
        elif blend_mode == "soft_light":
            lifted = torch.where(a <= 0.25, ((16 * a - 12) * a + 4) * a, a.sqrt())
            blended = torch.where(b <= 0.5, a - (1 - 2 * b) * a * (1 - a), a + (2 * b - 1) * (lifted - a))
        elif blend_mode == "difference":
            blended = a - b
        else:
            blended = b
        return ((a * (1 - blend_factor) + blended * blend_factor).clamp(0, 1),)
