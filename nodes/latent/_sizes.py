"""Latent sizes: a model's native side, sizes snapped to the VAE's factor, an Empty Latent (or Empty Latent
Audio) made without a VAE rebuilt for the model that samples it (and refused by nodes that reshape a latent
before that), and what a latent keeps when its samples change shape."""

from __future__ import annotations

import math
from typing import Any

from nodeflow.core import NodeError, RunContext


def config_side(size: Any, default: int) -> int:
    """A config's sample_size (an int, or [height, width]) as one side length."""
    if isinstance(size, (list, tuple)) and size:
        size = max(size)
    return int(size) if isinstance(size, (int, float)) and size > 0 else default


def snap_to_factor(ctx: RunContext, value: int, factor: int, name: str) -> int:
    """`value` rounded down to a multiple of the VAE's factor (at least one factor), with a warning
    when that changed it, so any size typed runs instead of failing."""
    snapped = max(factor, value // factor * factor)
    if snapped != value:
        ctx.warn(f"{name} {value} is not a multiple of {factor} (this VAE's scale); using {snapped}")
    return snapped


def fit_empty_latent(ctx: RunContext, model: Any, latent: dict) -> dict:
    """An Empty Latent made without a VAE, rebuilt for the model that samples it: the model's
    latent channels and VAE factor, and its native size where width or height was left at 0.

    Latents that carry pictures (VAE Encode, a previous sampler) are returned unchanged.
    """
    import torch

    if latent.get("empty_seconds") is not None:
        return _fit_audio(model, latent)
    request = latent.get("empty_size")
    if request is None:
        return latent
    factor = model.vae_scale_factor
    spec = model.spec
    native = config_side(model.unet.config.get("sample_size"), spec.native_side // factor if spec else 64) * factor
    width = snap_to_factor(ctx, request[0] or native, factor, "width")
    height = snap_to_factor(ctx, request[1] or native, factor, "height")
    samples = latent["samples"]
    frames: tuple[int, ...] = ()
    if latent.get("empty_length") is not None and spec is not None and spec.is_video:  # Empty Video Latent
        from nodes.latent._frames import latent_frames, require_length

        require_length(latent["empty_length"], spec.latent.temporal)
        frames = (latent_frames(latent["empty_length"], spec.latent.temporal),)
    elif samples.ndim == 5:
        frames = (samples.shape[2],)
    shape = (samples.shape[0], model.latent_channels, *frames, height // factor, width // factor)
    rest = {k: v for k, v in latent.items() if k not in ("samples", "downscale", "empty_size", "empty_length")}
    return {**rest, "samples": torch.zeros(shape, dtype=samples.dtype), "downscale": factor}


def sample_rate(model: Any) -> int:
    """An audio model's sample rate: its VAE's (a pipeline folder's own), else its family's; 0 for a picture
    or video model."""
    spec = model.spec
    own = getattr(model.vae, "sample_rate", None) if model.vae is not None else None
    return int(own or (spec.latent.sample_rate if spec is not None else 0))


def audio_steps(seconds: float, rate: int, factor: int) -> int:
    """Latent steps for `seconds` of sound: rounded up to whole steps of `factor` samples, as
    StableAudio3Pipeline sizes its latents."""
    return int(math.ceil(float(seconds) * rate / factor))


def _fit_audio(model: Any, latent: dict) -> dict:
    """Empty Latent Audio's blank latent rebuilt for the audio model that samples it: its channels, and
    `audio_steps` of the seconds asked."""
    import torch

    rate = sample_rate(model)
    if not rate:
        title = model.spec.title if model.spec is not None else "this model"
        raise NodeError(f"this is a blank sound latent (Empty Latent Audio) but {title} does not make sound",
                        "latent_image")
    samples, factor = latent["samples"], model.vae_scale_factor
    shape = (samples.shape[0], model.latent_channels, audio_steps(latent["empty_seconds"], rate, factor))
    rest = {k: v for k, v in latent.items() if k not in ("samples", "downscale", "empty_seconds")}
    return {**rest, "samples": torch.zeros(shape, dtype=samples.dtype), "downscale": factor}


def plain(latent: dict) -> dict:
    """A latent's keys minus the samples and the VAE posteriors, which no longer describe resized, cut
    or mixed samples."""
    return {k: v for k, v in latent.items() if k not in ("samples", "latent_dist", "masked_dist")}


def require_fitted(latent: dict, node: str, field: str) -> None:
    """One line for a blank latent made without a VAE: `fit_empty_latent` rebuilds it at the size asked
    when sampled, so a node that cuts or reshapes it before then would be undone."""
    if latent.get("empty_size") is not None:
        raise NodeError(f"this blank latent was made without a VAE; the sampler fits it to the model, which would "
                        f"undo {node}: use {node} after sampling, or give the empty latent node the VAE", field)
