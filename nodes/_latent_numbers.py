"""How a VAE's own latents relate to a LATENT's samples, and a VAE config's latent geometry.

Kept apart from `nodes.values` (which re-exports these names, the plugin API) so the values module
stays a list of the values themselves.
"""

from __future__ import annotations

import math
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy

torch = lazy("torch")

#: VAE classes whose pipeline undoes the per-channel normalisation as `latents * std + mean`
#: (QwenImage21Pipeline, LTX2Pipeline, MiniMax H3's); Qwen-Image's pipelines divide by 1 / std (`nodes.values.Vae.raw`).
STD_TIMES = ("AutoencoderKLQwenImage21", "AutoencoderKLLTX2Video", "AutoencoderKLMiniMaxH3")


def statistics(vae: Any) -> tuple[list[float], list[float]] | None:
    """A VAE's per-channel latent (mean, std): from its config (Wan's, Qwen-Image's) or, where it keeps
    them as weights, its `latents_mean` / `latents_std` buffers (LTX-2's video VAE); None if it has none."""
    config = vae.config
    if getattr(config, "latents_mean", None) is not None and getattr(config, "latents_std", None) is not None:
        return list(config.latents_mean), list(config.latents_std)
    mean, std = getattr(vae, "latents_mean", None), getattr(vae, "latents_std", None)
    if isinstance(mean, torch.Tensor) and isinstance(std, torch.Tensor):
        return mean.float().cpu().tolist(), std.float().cpu().tolist()
    return None


def vae_shift(config: Any, family: str) -> float:
    """The shift a VAE's latents are stored with: its config's `shift_factor` (Flux's, SD3's), or 0 where the
    family's pipeline decodes without it (`Family.vae_shift`: Kandinsky5T2IPipeline divides by the scaling only)."""
    from nodes.families import by_name

    declared = by_name(family) if family else None
    if declared is not None and not declared.vae_shift:
        return 0.0
    return float(getattr(config, "shift_factor", None) or 0.0)


def require_whole_cells(h: int, w: int, factor: int, family: str) -> None:
    """Refuse, before sampling, a latent the modern transformers cannot read: Flux, Chroma, Z-Image,
    Qwen-Image (1 and 2.1) and Krea 2 all take 2x2 latent cells as one token, so an odd side has a
    row or column left over. `factor` is the VAE's, so the message names the sizes that work."""
    if h % 2 or w % 2:
        raise NodeError(f"{family} reads 2x2 latent cells as one token: width and height must be multiples of "
                        f"{2 * factor} pixels (this latent is {w * factor}x{h * factor})", "latent_image")


def require_control_size(control_latents: Any, size: tuple[int, int], field: str = "model") -> None:
    """Refuse, before sampling, a control picture (of a ControlNet that reads it as latents) whose latents
    are not the sampled latent's (h, w) size; `field` is where the ControlNet arrives (model or positive)."""
    got = tuple(control_latents.shape[-2:])
    if got != tuple(size):
        raise NodeError(f"the control picture's latents are {got[1]}x{got[0]} cells, the latent being sampled "
                        f"{size[1]}x{size[0]}: give the ControlNet a picture of the latent's size", field)


def stored_latents(raw: Any, numbers: dict[str, Any]) -> Any:
    """A VAE's own latents as a LATENT holds them, by the VAE's `numbers` (`Vae.numbers`): normalised
    per channel ((raw - mean) * (1 / std), Qwen-Image's pipelines' order), patched into 2x2 cells and
    batch-normalised ((patched - mean) / std, Flux.2's) or shifted and scaled ((raw - shift) *
    scaling: Stable Diffusion's, Flux's, SD3's)."""
    import torch

    if numbers.get("bn_mean") is not None:
        patched = patchify(raw, int(numbers["patch"]))
        mean, std = _per_channel(numbers["bn_mean"], patched), _per_channel(numbers["bn_std"], patched)
        return (patched - mean) / std
    if numbers.get("latents_mean") is not None:
        shape = (1, len(numbers["latents_mean"])) + (1,) * (raw.dim() - 2)
        mean = torch.tensor(numbers["latents_mean"]).view(shape).to(raw.device, raw.dtype)
        inv_std = 1.0 / torch.tensor(numbers["latents_std"]).view(shape).to(raw.device, raw.dtype)
        return (raw - mean) * inv_std
    shifted = raw - numbers["shift_factor"] if numbers.get("shift_factor") else raw
    return numbers["scaling_factor"] * shifted


def _per_channel(values: Any, like: Any) -> Any:
    return torch.as_tensor(values).view(1, -1, 1, 1).to(like.device, like.dtype)


def patchify(latents: Any, p: int) -> Any:
    """[B, C, h, w] -> [B, C * p * p, h / p, w / p], each channel's p x p cell on the channel axis
    (Flux2Pipeline._patchify_latents' order)."""
    b, c, h, w = latents.shape
    cells = latents.view(b, c, h // p, p, w // p, p).permute(0, 1, 3, 5, 2, 4)
    return cells.reshape(b, c * p * p, h // p, w // p)


def unpatchify(latents: Any, p: int) -> Any:
    """The inverse of `patchify`."""
    b, c, h, w = latents.shape
    cells = latents.reshape(b, c // (p * p), p, p, h, w).permute(0, 1, 4, 2, 5, 3)
    return cells.reshape(b, c // (p * p), h * p, w * p)


def vae_patch(config: Any) -> int:
    """Latent cells a VAE groups per side before the model sees them: 2 for one that batch-normalises
    2x2-patched latents (Flux.2's AutoencoderKLFlux2), else 1."""
    get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
    patch = get("patch_size", None)
    return int(patch[0]) if get("batch_norm_eps", None) is not None and patch else 1


def vae_scale(config: Any) -> int:
    """Pixels per latent cell of a VAE config (samples per latent step of an audio VAE): 2 per down block of an
    AutoencoderKL, 2 per
    temporal-downsample entry of a video VAE (Qwen-Image's), times a patching VAE's patch; a VAE
    that lists its spatial factors (MiniMax H3's) or states its ratio (LTX-2's video VAE, whose blocks
    do not all halve the picture; Wan's, Wan 2.2's 16x patching one among them) says it outright."""
    get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
    if factors := get("spatial_downsample_factors", None):
        return math.prod(int(f) for f in factors)
    if stated := get("spatial_compression_ratio", None) or get("scale_factor_spatial", None):
        return int(stated)  # (Wan's VAEs state theirs: 8, Wan 2.2's patching one 16)
    if strides := get("encoder_strides", None):  # an audio VAE (SAME): samples per latent step
        return int(get("patch_size")) * math.prod(int(f) for f in strides)
    blocks = config.get("block_out_channels") if isinstance(config, dict) else getattr(config, "block_out_channels",
                                                                                        None)
    if blocks:
        return 2 ** (len(blocks) - 1) * vae_patch(config)
    steps = config.get("temperal_downsample") if isinstance(config, dict) else config.temperal_downsample
    return 2 ** len(steps)


def vae_channels(config: Any) -> int:
    """Channels of a LATENT's samples for a VAE config (a patching VAE's cells on the channel axis)."""
    channels = config.get("latent_channels") if isinstance(config, dict) else getattr(config, "latent_channels", None)
    if channels is None:
        get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
        channels = get("z_dim", None) or get("latent_dim")  # a video VAE's, or an audio VAE's (SAME)
    return int(channels) * vae_patch(config) ** 2


def vae_picture_channels(config: Any) -> int:
    """Picture channels a VAE config takes and gives: 4 for an RGBA VAE (Qwen Image 2.1's `in_channels`,
    Qwen-Image Layered's `input_channels`), else 3."""
    get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
    return int(get("in_channels", None) or get("input_channels", None) or 3)


def opaque_for(config: Any, pixels: Any) -> Any:
    """Pictures [B, 3, ...] in [-1, 1] as a VAE of this config takes them: an RGBA VAE's with an opaque
    alpha channel (1), as its pipeline's RGBA conversion of an RGB picture makes them."""
    if pixels.shape[1] == 3 and vae_picture_channels(config) == 4:
        return torch.cat([pixels, torch.ones_like(pixels[:, :1])], dim=1)
    return pixels
