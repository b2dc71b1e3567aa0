"""The MiniMax H3 adapter the family declares (`Family.adapter`): what the loaders and the sampling
path ask of a family, gathered from `_adapter` (the pipeline's maths, the diffusers convention) and
`_denoise` (the ComfyUI convention's joined video + soundtrack)."""

from __future__ import annotations

from nodes.minimax_h3._adapter import (
    denoiser_config,
    denoiser_ready,
    denoiser_state,
    encode,
    sample_joint,
    scheduler_config,
)
from nodes.minimax_h3._audio import audio_vae
from nodes.minimax_h3._denoise import Denoise, stream_noise_scales

__all__ = ["Denoise", "audio_vae", "denoiser_config", "denoiser_ready", "denoiser_state", "encode", "sample_joint",
           "scheduler_config", "stream_noise_scales"]
