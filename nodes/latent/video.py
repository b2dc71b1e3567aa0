"""Video latents: Empty Video Latent (the start of text-to-video, a latent with a frame axis, see
`nodes.latent._frames`) and Trim Video Latent (drops latent frames from the start)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.types import INT, LATENT, VAE

#: Without a VAE: the layout ComfyUI's EmptyHunyuanLatentVideo makes (16 channels, 8x, 4 frames per
#: latent frame, Wan 2.1's and HunyuanVideo's), refitted to the sampling model's own (`fit_empty_latent`).
DEFAULT_CHANNELS, DEFAULT_FACTOR, DEFAULT_TEMPORAL = 16, 8, 4
#: Latent cells the video transformers read as one token per side: sizes are whole tokens.
CELLS = 2


class EmptyVideoLatent(Node):
    type_id = "latent.empty_video"
    title = "Empty Video Latent"
    category = "latent/video"
    infotext = {"width": "width", "height": "height", "length": "frames", "batch_size": "batch"}
    description = (
        "A blank video latent for text-to-video: batch_size videos of `length` frames. The video VAEs take "
        "the first frame alone and then 4 at a time, so length is 1, 5, 9, ... (4k + 1); width and height "
        "are multiples of 16 (8x the VAE, 2x2 cells per token). Without a VAE it is laid out as ComfyUI's "
        "Empty Hunyuan Latent Video (16 channels) and the sampler refits it to its model."
    )
    inputs = (
        Input("width", INT, default=848, min=16, max=16384, step=16, help="Frame width in pixels."),
        Input("height", INT, default=480, min=16, max=16384, step=16, help="Frame height in pixels."),
        Input("length", INT, default=25, min=1, max=16384, step=4, help="Frames: 1, 5, 9, ... (4k + 1)."),
        Input("batch_size", INT, default=1, min=1, max=64, help="How many videos to make at once."),
        Input("vae", VAE, optional=True, help="A video family's VAE (optional: the sampler fits the latent to "
                                              "its model either way)."),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, width: int, height: int, length: int, batch_size: int,
            vae: Any = None) -> tuple[dict]:
        import torch

        from nodes.latent._frames import latent_frames, require_length

        factor, channels, temporal = DEFAULT_FACTOR, DEFAULT_CHANNELS, DEFAULT_TEMPORAL
        if vae is not None:
            if not vae.temporal:
                raise NodeError("this VAE is not a video family's (it makes pictures); use Empty Latent, or load "
                                "the video VAE with its family", "vae")
            factor, channels, temporal = vae.scale_factor, vae.latent_channels, vae.temporal
        require_sizes(int(width), int(height), factor)
        require_length(int(length), temporal)
        frames = latent_frames(int(length), temporal)
        samples = torch.zeros((int(batch_size), channels, frames, int(height) // factor, int(width) // factor))
        latent = {"samples": samples, "downscale": factor}
        if vae is None:
            latent["empty_size"] = (int(width), int(height))
            latent["empty_length"] = int(length)
        return (latent,)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        """batch_size x length frames of width x height."""
        width, height, length, batch = (params.get(k) for k in ("width", "height", "length", "batch_size"))
        if not all(isinstance(v, int) for v in (width, height, length, batch)):
            return FlowSize()
        return FlowSize(batch * length, width * height, field="length")


def require_sizes(width: int, height: int, factor: int, node_field: tuple[str, str] = ("width", "height")) -> None:
    """Frame sizes the video transformers read as whole tokens: multiples of `factor` x 2 pixels."""
    step = factor * CELLS
    for value, field in zip((width, height), node_field, strict=True):
        if value % step or value < step:
            raise NodeError(f"{field} {value} is not a multiple of {step} (the VAE's {factor}x, and 2x2 latent cells "
                            f"per token); use {max(step, value // step * step)}", field)


class TrimVideoLatent(Node):
    type_id = "latent.trim_video"
    title = "Trim Video Latent"
    category = "latent/video"
    description = (
        "Drops the first `trim_amount` latent frames of a video latent (each is several video frames: 4 "
        "for Wan). VACE puts its reference pictures in front of the video as extra latent frames; after "
        "sampling, this takes them off again (WanVaceToVideo's trim_latent output says how many)."
    )
    inputs = (
        Input("samples", LATENT, help="A video latent [batch, channels, frames, height, width]."),
        Input("trim_amount", INT, default=0, min=0, max=99999, help="Latent frames to drop from the start."),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, samples: dict, trim_amount: int) -> tuple[dict]:
        from nodes.latent._frames import has_frames
        from nodes.latent._sizes import plain, require_fitted

        latents = samples["samples"]
        if not has_frames(latents):
            raise NodeError(f"this latent has no frames (shape {list(latents.shape)}): Trim Video Latent takes "
                            "a video latent [batch, channels, frames, height, width]", "samples")
        require_fitted(samples, self.title, "samples")
        frames = int(latents.shape[2])
        if trim_amount >= frames:
            raise NodeError(f"trim_amount {trim_amount} leaves nothing of the latent's {frames} frames; "
                            f"at most {frames - 1}", "trim_amount")
        out = {**plain(samples), "samples": latents[:, :, trim_amount:]}
        mask = samples.get("noise_mask")
        if mask is not None and mask.ndim == 5 and mask.shape[2] == frames:  # a mask per frame is trimmed alike
            out["noise_mask"] = mask[:, :, trim_amount:]
        return (out,)
