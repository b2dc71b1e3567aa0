"""Latent nodes: empty latents, resizing, noise masks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import MemoryNeed
from nodeflow.core.types import FLOAT, INT, LATENT, MASK, STRING, VAE

UPSCALE_METHODS = ("nearest-exact", "bilinear", "bicubic", "area")


class EmptyLatent(Node):
    type_id = "latent.empty"
    title = "Empty Latent"
    category = "latent"
    description = (
        "A blank latent for text-to-image at the given picture size. Connect the checkpoint's VAE "
        "so the latent matches it (channels, and how much the VAE shrinks pictures: 8x for Stable "
        "Diffusion, 4x for the built-in tiny model); without it SD's 4 channels and 8x are assumed. "
        "Width and height must be multiples of that factor."
    )
    inputs = (
        Input("width", INT, default=512, min=8, max=16384, step=8, help="Picture width in pixels."),
        Input("height", INT, default=512, min=8, max=16384, step=8, help="Picture height in pixels."),
        Input("batch_size", INT, default=1, min=1, max=64, help="How many pictures to make at once."),
        Input("vae", VAE, optional=True, help="The checkpoint's VAE (sets channels and scale)."),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, width: int, height: int, batch_size: int, vae: Any = None) -> tuple[dict]:
        import torch

        factor, channels = (8, 4) if vae is None else (vae.scale_factor, vae.latent_channels)
        for name, value in (("width", width), ("height", height)):
            if value % factor:
                raise NodeError(f"{name} {value} is not a multiple of {factor} (the VAE's scale); "
                                f"use {value // factor * factor or factor}", name)
        samples = torch.zeros((batch_size, channels, height // factor, width // factor))
        return ({"samples": samples, "downscale": factor},)

    @classmethod
    def memory_needs(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[MemoryNeed]:
        """The pictures this latent becomes: batch x height x width x 3 float32 once decoded.

        The latent itself is a small fraction of that (4 channels at 1/8 or 1/4 of each side), so
        the decoded batch is the size that decides whether the workflow can finish.
        """
        width, height, batch = (params.get(k) for k in ("width", "height", "batch_size"))
        if not all(isinstance(v, int) for v in (width, height, batch)):
            return []
        images = batch * height * width * 3 * 4
        latent = batch * 4 * -(-height // 4) * -(-width // 4) * 4
        return [MemoryNeed(images + latent, "batch_size",
                           f"{batch} pictures of {width}x{height}, decoded to float32")]


class LatentUpscale(Node):
    type_id = "latent.upscale"
    title = "Latent Upscale"
    category = "latent"
    description = (
        "Resizes a latent by a factor (for a hires-fix second pass: upscale, then sample again "
        "with denoise around 0.5)."
    )
    inputs = (
        Input("latent", LATENT),
        Input("scale_by", FLOAT, default=1.5, min=0.1, max=8.0, step=0.05),
        Input("method", STRING, default="nearest-exact", choices=UPSCALE_METHODS),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, latent: dict, scale_by: float, method: str) -> tuple[dict]:
        import torch.nn.functional as F

        samples = latent["samples"]
        h, w = round(samples.shape[-2] * scale_by), round(samples.shape[-1] * scale_by)
        if h < 1 or w < 1:
            raise NodeError("the result would be empty", "scale_by")
        kwargs = {"align_corners": False} if method in ("bilinear", "bicubic") else {}
        out = {k: v for k, v in latent.items() if k not in ("samples", "latent_dist", "masked_dist")}
        out["samples"] = F.interpolate(samples, size=(h, w), mode=method, **kwargs)
        return (out,)


class SetLatentNoiseMask(Node):
    type_id = "latent.set_noise_mask"
    title = "Set Latent Noise Mask"
    category = "latent"
    description = (
        "Limits sampling to the masked area (1 = repaint) of a latent from VAE Encode, for "
        "inpainting with a normal model: after each step the unmasked area is reset to the source "
        "latent noised to the current level, as diffusers' inpaint pipeline does. Use with denoise "
        "below 1 to keep the masked area's colours; 9-channel inpainting models need VAE Encode "
        "for Inpaint instead."
    )
    inputs = (Input("latent", LATENT), Input("mask", MASK))
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, latent: dict, mask: Any) -> tuple[dict]:
        from nodes._diffusion import mask_to_b1hw

        return ({**latent, "noise_mask": mask_to_b1hw(mask)},)
