"""Latent batch and layout nodes: resize to a size, join, repeat, pick from and paste into latents.

Positions and sizes are given in pixels, as in ComfyUI, and turned into latent cells with the
latent's own VAE factor (`downscale`, 8 for Stable Diffusion when unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.types import INT, LATENT, STRING
from nodes.latent._sizes import plain

#: Latent resampling filters shared with Latent Upscale (nodes.latent.latents).
RESIZE_METHODS = ("nearest-exact", "bilinear", "area", "bicubic")
_BATCH_KEYS = ("noise_mask",)


def sized_pixels(params: dict, pixels: int) -> int:
    """The memory plan's picture pixels after a resize to a width x height given in pixels: the
    pictures coming in are at least one picture, so never fewer than that size (the batch size is
    not known before the run)."""
    width, height = params.get("width"), params.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return max(pixels, width * height)
    return pixels


def latent_factor(latent: dict) -> int:
    """Pixels per latent cell: the VAE factor the latent was made with (8 when unknown)."""
    return int(latent.get("downscale") or 8)


def resize_latent(samples: Any, height: int, width: int, method: str, crop: str = "disabled") -> Any:
    """[B, C, h, w] to [B, C, height, width]; crop 'center' cuts the excess to keep the aspect ratio."""
    import torch.nn.functional as F

    if crop == "center":
        h, w = samples.shape[-2:]
        source, target = w / h, width / height
        if source > target:
            cw = round(h * target)
            left = (w - cw) // 2
            samples = samples[..., left:left + cw]
        elif source < target:
            ch = round(w / target)
            top = (h - ch) // 2
            samples = samples[..., top:top + ch, :]
    kwargs = {"align_corners": False} if method in ("bilinear", "bicubic") else {}
    return F.interpolate(samples, size=(height, width), mode=method, **kwargs)


class LatentUpscaleTo(Node):
    type_id = "latent.upscale_to"
    title = "Latent Upscale To Size"
    category = "latent"
    description = (
        "Resizes a latent to a picture size in pixels (width x height, divided by the VAE's factor). "
        "A width or height of 0 keeps the aspect ratio from the other; crop 'center' keeps the "
        "aspect ratio by cutting the excess instead of stretching."
    )
    inputs = (
        Input("latent", LATENT),
        Input("method", STRING, default="nearest-exact", choices=RESIZE_METHODS),
        Input("width", INT, default=512, min=0, max=16384, step=8),
        Input("height", INT, default=512, min=0, max=16384, step=8),
        Input("crop", STRING, default="disabled", choices=("disabled", "center")),
    )
    outputs = (Output("latent", LATENT),)

    @classmethod
    def picture_pixels(cls, params: dict, pixels: int) -> int:
        return sized_pixels(params, pixels)

    def run(self, ctx: RunContext, latent: dict, method: str, width: int, height: int, crop: str) -> tuple[dict]:
        samples = latent["samples"]
        if width == 0 and height == 0:
            return (latent,)
        factor = latent_factor(latent)
        h, w = samples.shape[-2:]
        cols = max(1, width // factor) if width else max(1, round(w * (height // factor) / h))
        rows = max(1, height // factor) if height else max(1, round(h * cols / w))
        return ({**plain(latent), "samples": resize_latent(samples, rows, cols, method, crop)},)


class LatentBatch(Node):
    type_id = "latent.batch"
    title = "Latent Batch"
    category = "latent/batch"
    description = (
        "Joins two latents into one batch (first the pictures of latent_1, then those of latent_2). "
        "latent_2 is resized (bilinear, centre crop) to latent_1's size when they differ."
    )
    inputs = (Input("latent_1", LATENT), Input("latent_2", LATENT))
    outputs = (Output("latent", LATENT),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        return FlowSize.joined(sizes, "latent_2")

    def run(self, ctx: RunContext, latent_1: dict, latent_2: dict) -> tuple[dict]:
        import torch

        a, b = latent_1["samples"], latent_2["samples"]
        if a.shape[1] != b.shape[1]:
            raise NodeError(f"the latents have {a.shape[1]} and {b.shape[1]} channels (different VAEs)", "latent_2")
        if a.shape[-2:] != b.shape[-2:]:
            b = resize_latent(b, a.shape[-2], a.shape[-1], "bilinear", "center")
        return ({**plain(latent_1), "samples": torch.cat([a, b.to(a.dtype)])},)


class RepeatLatentBatch(Node):
    type_id = "latent.repeat_batch"
    title = "Repeat Latent Batch"
    category = "latent/batch"
    description = (
        "Repeats the whole batch 'amount' times (a batch of 2 repeated 3 times gives 6: a, b, a, b, a, b). "
        "Sampling it gives different pictures: each gets its own noise."
    )
    inputs = (Input("latent", LATENT), Input("amount", INT, default=1, min=1, max=64))
    outputs = (Output("latent", LATENT),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        """The batch coming in, `amount` times."""
        size, amount = sizes.get("latent"), params.get("amount")
        if size is None or not isinstance(amount, int):
            return super().output_size(params, sizes)
        return replace(size, batch=size.batch * amount, field="amount")

    def run(self, ctx: RunContext, latent: dict, amount: int) -> tuple[dict]:
        out = plain(latent)
        out["samples"] = latent["samples"].repeat(amount, 1, 1, 1)
        for key in _BATCH_KEYS:
            value = latent.get(key)
            if value is not None and value.shape[0] > 1:
                out[key] = value.repeat(amount, *([1] * (value.ndim - 1)))
        return (out,)


class LatentFromBatch(Node):
    type_id = "latent.from_batch"
    title = "Latent From Batch"
    category = "latent/batch"
    description = (
        "Picks 'length' latents starting at batch_index (0 = the first) out of a batch, e.g. to "
        "redo one picture of a batch at a higher resolution. Indexes past the end pick the last."
    )
    inputs = (
        Input("latent", LATENT),
        Input("batch_index", INT, default=0, min=0, max=63),
        Input("length", INT, default=1, min=1, max=64),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, latent: dict, batch_index: int, length: int) -> tuple[dict]:
        samples = latent["samples"]
        start = min(samples.shape[0] - 1, batch_index)
        stop = start + min(samples.shape[0] - start, length)
        out = plain(latent)
        out["samples"] = samples[start:stop].clone()
        for key in _BATCH_KEYS:
            value = latent.get(key)
            if value is not None and value.shape[0] > 1:
                out[key] = value[start:stop].clone()
        return (out,)


class LatentComposite(Node):
    type_id = "latent.composite"
    title = "Latent Composite"
    category = "latent"
    description = (
        "Pastes latent 'source' into 'destination' with its top-left corner at (x, y) pixels. "
        "feather (pixels) fades the pasted edges that lie inside the destination linearly into it, "
        "so the seam blends when sampled again."
    )
    inputs = (
        Input("destination", LATENT),
        Input("source", LATENT),
        Input("x", INT, default=0, min=0, max=16384, step=8),
        Input("y", INT, default=0, min=0, max=16384, step=8),
        Input("feather", INT, default=0, min=0, max=16384, step=8),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, destination: dict, source: dict, x: int, y: int, feather: int) -> tuple[dict]:
        import torch

        factor = latent_factor(destination)
        dest, src = destination["samples"], source["samples"]
        if dest.shape[1] != src.shape[1]:
            raise NodeError(f"the latents have {dest.shape[1]} and {src.shape[1]} channels", "source")
        col, row, fade = x // factor, y // factor, feather // factor
        H, W = dest.shape[-2:]
        if col >= W or row >= H:
            raise NodeError(f"({x}, {y}) is outside the {W * factor}x{H * factor} destination", "x")
        h, w = min(src.shape[-2], H - row), min(src.shape[-1], W - col)
        src = src[..., :h, :w].to(dest.dtype)
        if src.shape[0] != dest.shape[0]:
            src = src.repeat(-(-dest.shape[0] // src.shape[0]), 1, 1, 1)[: dest.shape[0]]
        weight = torch.ones((1, 1, h, w), dtype=dest.dtype)
        ramp = torch.arange(1, fade + 1, dtype=dest.dtype) / max(fade, 1)
        for t in range(min(fade, h)):  # top and bottom edges, where they lie inside the destination
            if row != 0:
                weight[..., t, :] *= ramp[t]
            if row + h < H:
                weight[..., h - 1 - t, :] *= ramp[t]
        for t in range(min(fade, w)):
            if col != 0:
                weight[..., t] *= ramp[t]
            if col + w < W:
                weight[..., w - 1 - t] *= ramp[t]
        out = dest.clone()
        region = out[..., row:row + h, col:col + w]
        region[...] = weight * src + (1 - weight) * region
        return ({**plain(destination), "samples": out},)
