"""Latents with a frame axis: the one place that knows how video latents relate to frames.

A video family declares how many frames its VAE folds into one latent frame (`LatentFormat.temporal`:
Wan's 4); its LATENT["samples"] are [B, C, latent frames, h, w]. Its VAE turns 4k + 1 frames into
k + 1 latent frames (the first frame alone, then each 4) and back. Frames travel as IMAGE values on
the batch axis, as in ComfyUI: a video of F frames is an IMAGE [F, H, W, 3], and a LATENT of B videos
decodes to B * F pictures, one video after the other.

The sampling path is shape-generic (noise is drawn for the whole latent from the seed's generator,
as the video pipelines draw it); what differs for frames is asked here, never by a family's name:
- `require_kind`: a sampler refuses a latent without frames for a video family, and the reverse;
- `over_frames`: a [B, 1, h, w] noise mask holds on every frame; `fit_noise_mask` fits one (or a
  per-frame one) to the latents;
- `preview_frame`: the latent frame a live preview shows;
- `to_video` / `to_frames`: the VAE's [B, 3, F, H, W] from and to IMAGE's frames on the batch axis;
- `latent_frames` / `require_length`: how many latent frames a length makes, and which lengths fit.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError


def has_frames(samples: Any) -> bool:
    """Whether latents (or a VAE's output) carry a frame axis: [B, C, frames, h, w]."""
    return samples.ndim == 5


def latent_frames(length: int, temporal: int) -> int:
    """Latent frames for `length` frames of a VAE folding `temporal` frames into one (the first alone)."""
    return (int(length) - 1) // int(temporal) + 1


def require_length(length: int, temporal: int, field: str = "length") -> None:
    """Refuse a frame count the VAE cannot fold whole: it takes the first frame alone, then `temporal`
    at a time, so only 1, temporal + 1, 2 * temporal + 1, ... frames come back as given."""
    if int(length) < 1 or (int(length) - 1) % int(temporal):
        below = (max(int(length), 1) - 1) // temporal * temporal + 1
        raise NodeError(f"length {length} is not a multiple of {temporal} plus 1 (this video VAE takes the first "
                        f"frame alone, then {temporal} at a time); use {below} or {below + temporal}", field)


def require_kind(samples: Any, spec: Any, field: str = "latent_image") -> None:
    """One line, before sampling, when a latent's frame axis does not match the model's family (a video
    family's, or a layered picture family's: Qwen-Image Layered's composite and layers)."""
    framed = spec is not None and spec.has_frames
    if framed and not has_frames(samples):
        made = "Empty Video Latent or a video node" if spec.is_video else "Empty Qwen Image Layered Latent"
        raise NodeError(f"{spec.title} makes {'videos' if spec.is_video else 'layers'}: its latent needs a frame "
                        f"axis [batch, channels, frames, height, width]; make it with {made}", field)
    if not framed and has_frames(samples):
        title = spec.title if spec is not None else "this model"
        raise NodeError(f"this latent has frames (a video latent) but {title} makes pictures", field)


def over_frames(mask: Any, samples: Any) -> Any:
    """A [B, 1, h, w] mask laid over latents: unchanged for pictures, the same on every frame of a video."""
    return mask.unsqueeze(2) if has_frames(samples) and mask.ndim == 4 else mask


def fit_noise_mask(mask: Any, samples: Any, mode: str = "nearest") -> Any:
    """A noise mask fitted to latents: a [B, 1, h', w'] one resized to their cells (and laid over every
    frame of a video), a per-frame [B, 1, frames', h', w'] one (Wan 2.2 5B's start frames) resized to
    their frames and cells; its batch repeated to theirs."""
    import torch

    size = tuple(samples.shape[-3:]) if mask.ndim == 5 else tuple(samples.shape[-2:])
    mode = "trilinear" if mask.ndim == 5 and mode == "bilinear" else mode
    mask = torch.nn.functional.interpolate(mask.float(), size=size, mode=mode)
    if mask.shape[0] < samples.shape[0]:
        mask = mask.repeat(samples.shape[0] // mask.shape[0], *([1] * (mask.ndim - 1)))
    return over_frames(mask, samples)


def preview_frame(latents: Any) -> Any:
    """The [B, C, h, w] latents a live preview shows: the picture, or a video's first latent frame (the
    one a start image fixes, and the frame every length has)."""
    return latents[:, :, 0] if has_frames(latents) else latents


def to_video(pictures: Any) -> Any:
    """IMAGE frames as the VAE takes them: [F, 3, H, W] -> one video [1, 3, F, H, W]."""
    return pictures.permute(1, 0, 2, 3).unsqueeze(0)


def to_frames(video: Any) -> Any:
    """A video VAE's output [B, 3, F, H, W] as pictures [B * F, 3, H, W], video after video."""
    b, c, f, h, w = video.shape
    return video.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
