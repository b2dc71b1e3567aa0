"""LTX-2's joint audio-video LATENT, and the sizes its latents take.

LTX-2 denoises a video and its soundtrack together. ComfyUI carries the pair as one LATENT whose
"samples" is a nested tensor; NodeFlow keeps plain tensors and puts the soundtrack beside the video:

  "samples"           the video, [B, 128, frames, h, w] (LTX-2's VAE: 8x in time, 32x in space);
  "noise_mask"        optional, the video's [B, 1, frames, h or 1, w or 1] (1 = generate);
  "audio_samples"     the soundtrack, [B, channels, latent frames, frequency bins] (the audio VAE's);
  "audio_noise_mask"  optional, the soundtrack's mask, shaped like "audio_samples".

An audio-only LATENT is {"samples": [B, C, L, F], "type": "audio"}, as ComfyUI's. Both streams'
latents are normalised by their VAE's per-channel statistics, as LTX2Pipeline keeps them.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError

#: Pixel frames per latent frame after the first, and pixels per latent cell (LTX-2's video VAE).
TIME_FACTOR, SPACE_FACTOR = 8, 32
#: LTX-2's video latent channels.
VIDEO_CHANNELS = 128
AUDIO_KEYS = ("audio_samples", "audio_noise_mask")


def video_latent_frames(length: int) -> int:
    """Latent frames of a video of `length` pixel frames: the first frame alone, then one per 8
    (LTX2Pipeline's (num_frames - 1) // 8 + 1)."""
    return (length - 1) // TIME_FACTOR + 1


def is_av(latent: dict) -> bool:
    return "audio_samples" in latent


def fit_audio(reference: Any, audio: Any, mask: Any) -> tuple[Any, Any]:
    """The soundtrack trimmed or zero-padded in time to the length of `reference` (the stream it
    replaces); a padded tail is unmasked (1), so the model makes it."""
    import torch

    if audio.shape == reference.shape:
        return audio, mask
    if audio.shape[:2] != reference.shape[:2] or audio.shape[3:] != reference.shape[3:]:
        raise NodeError(f"an audio latent of shape {tuple(audio.shape)} cannot replace one of "
                        f"{tuple(reference.shape)}: only its length in time may differ", "audio_latent")
    length = reference.shape[2]
    if mask is not None:
        mask = mask.expand_as(audio) if mask.shape != audio.shape else mask
    if audio.shape[2] > length:
        return audio[:, :, :length], None if mask is None else mask[:, :, :length]
    pad = audio.new_zeros(audio.shape[:2] + (length - audio.shape[2],) + audio.shape[3:])
    mask = None if mask is None else torch.cat([mask, torch.ones_like(pad)], dim=2)
    return torch.cat([audio, pad], dim=2), mask


def join(video: dict, audio: dict) -> dict:
    """One AV LATENT of a video LATENT and an audio one (a video that is already AV keeps its video
    and takes the new soundtrack, fitted to the old one's length). Where either stream has a noise
    mask, both get one (ones for the other: all of it generated)."""
    import torch

    video_samples, video_mask = video["samples"], video.get("noise_mask")
    audio_samples, audio_mask = audio["samples"], audio.get("noise_mask")
    if video_samples.dim() != 5:
        raise NodeError(f"the video latent must be [batch, channels, frames, height, width]; this one is "
                        f"{tuple(video_samples.shape)}", "video_latent")
    if audio_samples.dim() != 4:
        raise NodeError(f"the audio latent must be [batch, channels, frames, frequency bins]; this one is "
                        f"{tuple(audio_samples.shape)}", "audio_latent")
    if is_av(video):
        audio_samples, audio_mask = fit_audio(video["audio_samples"], audio_samples, audio_mask)
    out = {k: v for k, v in video.items() if k not in AUDIO_KEYS and k != "noise_mask"}
    out["samples"], out["audio_samples"] = video_samples, audio_samples
    if video_mask is not None or audio_mask is not None:
        out["noise_mask"] = torch.ones_like(video_samples) if video_mask is None else video_mask
        out["audio_noise_mask"] = torch.ones_like(audio_samples) if audio_mask is None else audio_mask
    return out


def split(latent: dict, field: str) -> tuple[dict, dict]:
    """(video LATENT, audio LATENT) of an AV LATENT."""
    if not is_av(latent):
        raise NodeError("this latent has no soundtrack: make one with Concat AV Latent (LTXVConcatAVLatent)", field)
    video = {k: v for k, v in latent.items() if k not in AUDIO_KEYS}
    audio: dict[str, Any] = {"samples": latent["audio_samples"], "type": "audio"}
    if latent.get("audio_noise_mask") is not None:
        audio["noise_mask"] = latent["audio_noise_mask"]
    return video, audio


def noise_mask(latent: dict) -> Any:
    """The video's noise mask: its own (a copy), else all frames generated ([B, 1, frames, 1, 1] of 1)."""
    import torch

    samples, mask = latent["samples"], latent.get("noise_mask")
    if mask is not None:
        return mask.clone()
    return torch.ones((samples.shape[0], 1, samples.shape[2], 1, 1), dtype=torch.float32, device=samples.device)
