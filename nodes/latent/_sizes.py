"""Latent sizes: a model's native side, sizes snapped to the VAE's factor, an Empty Latent made
without a VAE rebuilt for the model that samples it (and refused by nodes that reshape a latent
before that), and what a latent keeps when its samples change shape."""

from __future__ import annotations

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
