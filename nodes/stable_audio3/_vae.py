"""Stable Audio 3's SAME autoencoder (diffusers' AutoencoderSAME) as a VAE value: latents [B, 256, steps]
to stereo sound, 4096 samples a step at 44.1 kHz. It travels on a VAE socket, as in ComfyUI; VAE Decode
Audio decodes through it (`decode_audio`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy

torch = lazy("torch")


@dataclass(eq=False)
class SameVae:
    """VAE (audio): Stable Audio 3's SAME autoencoder."""

    vae: Any
    device: str
    dtype: Any
    #: The declared family it was loaded as.
    family: str = "stable-audio-3"

    @property
    def sample_rate(self) -> int:
        return int(self.vae.config.sampling_rate)

    @property
    def latent_channels(self) -> int:
        return int(self.vae.config.latent_dim)

    @property
    def scale_factor(self) -> int:
        """Samples of sound per latent step."""
        return int(self.vae.downsampling_ratio)

    def decode_audio(self, latents: Any, field: str = "samples") -> Any:
        """The waveforms [B, channels, steps x 4096] of latents [B, 256, steps], as StableAudio3Pipeline decodes
        them (the VAE, then clamped to [-1, 1])."""
        if latents.dim() != 3 or latents.shape[1] != self.latent_channels:
            raise NodeError(f"this is not a Stable Audio 3 latent [batch, {self.latent_channels}, steps]: its shape "
                            f"is {tuple(latents.shape)}", field)
        with torch.no_grad():
            audio = self.vae.decode(latents.to(self.device, self.dtype)).sample
        return audio.clamp(-1.0, 1.0).float().cpu()


def audio_vae(model: Any, device: str, dtype: Any) -> SameVae:
    """The value a loader gives for Stable Audio 3's VAE (`Family.audio_vae`)."""
    return SameVae(model, device, dtype)
