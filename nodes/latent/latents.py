"""Latent nodes: empty latents, resizing, noise masks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.spec import MemoryNeed
from nodeflow.core.types import FLOAT, INT, LATENT, MASK, STRING, VAE
from nodes.latent._sizes import config_side, snap_to_factor

#: The picture side assumed for memory estimates when width or height is 0 (native) and the model
#: is not known (validation's quick check): SDXL's 1024, the largest native size of the models
#: NodeFlow loads, so that check never runs low. The memory plan puts in the model's own side.
NATIVE_GUESS = 1024
UPSCALE_METHODS = ("nearest-exact", "bilinear", "bicubic", "area")


class EmptyLatent(Node):
    type_id = "latent.empty"
    title = "Empty Latent"
    category = "latent"
    infotext = {"width": "width", "height": "height", "batch_size": "batch"}
    native_size_inputs = ("width", "height")
    description = (
        "A blank latent for text-to-image. Width and height 0 mean the model's native size (512 for "
        "SD 1.5, 1024 for SDXL, 64 for the built-in tiny model). The latent follows the model it is "
        "sampled with (channels, and how much its VAE shrinks pictures: 8x for Stable Diffusion, 4x "
        "for the built-in model) whether or not the VAE is connected; sizes that are not a multiple "
        "of that factor are rounded down to one, with a warning."
    )
    inputs = (
        Input("width", INT, default=0, min=0, max=16384, step=8,
              help="Picture width in pixels; 0 = the model's native size."),
        Input("height", INT, default=0, min=0, max=16384, step=8,
              help="Picture height in pixels; 0 = the model's native size."),
        Input("batch_size", INT, default=1, min=1, max=64, help="How many pictures to make at once."),
        Input("vae", VAE, optional=True, help="The checkpoint's VAE (optional: the sampler adapts the latent "
                                              "to its model either way)."),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, width: int, height: int, batch_size: int, vae: Any = None) -> tuple[dict]:
        import torch

        if vae is None:  # the sampler rebuilds it for its model (see fit_empty_latent)
            factor, channels, native = 8, 4, 512
        else:
            factor, channels = vae.scale_factor, vae.latent_channels
            native = config_side(vae.vae.config.get("sample_size"), 512)
        w = snap_to_factor(ctx, width or native, factor, "width")
        h = snap_to_factor(ctx, height or native, factor, "height")
        latent = {"samples": torch.zeros((batch_size, channels, h // factor, w // factor)), "downscale": factor}
        if vae is None:
            latent["empty_size"] = (width, height)
        return (latent,)

    @classmethod
    def memory_needs(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[MemoryNeed]:
        """The pictures this latent becomes: batch x height x width x 3 float32 once decoded.

        The latent itself is a small fraction of that (4 channels at 1/8 or 1/4 of each side), so
        the decoded batch is the size that decides whether the workflow can finish.
        """
        width, height, batch = (params.get(k) for k in ("width", "height", "batch_size"))
        if not all(isinstance(v, int) for v in (width, height, batch)):
            return []
        width, height = width or NATIVE_GUESS, height or NATIVE_GUESS
        images = batch * height * width * 3 * 4
        latent = batch * 4 * -(-height // 4) * -(-width // 4) * 4
        return [MemoryNeed(images + latent, "batch_size",
                           f"{batch} pictures of {width}x{height}, decoded to float32", pixels=batch * height * width)]

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        """`batch_size` pictures of width x height (the native side where 0, as `memory_needs`)."""
        width, height, batch = (params.get(k) for k in ("width", "height", "batch_size"))
        if not all(isinstance(v, int) for v in (width, height, batch)):
            return FlowSize()
        return FlowSize(batch, (width or NATIVE_GUESS) * (height or NATIVE_GUESS), field="batch_size")


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

    @classmethod
    def picture_pixels(cls, params: Mapping[str, Any], pixels: int) -> int:
        scale = params.get("scale_by")
        return round(pixels * scale * scale) if isinstance(scale, (int, float)) else pixels

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
        from nodes._tensors import mask_to_b1hw

        return ({**latent, "noise_mask": mask_to_b1hw(mask)},)
