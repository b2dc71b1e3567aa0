"""MiniMax H3's soundtrack VAE (diffusers' AutoencoderKLMiniMaxH3Audio): waveform in, waveform out, mono,
32 channels at 40 latents a second. A LATENT keeps the stereo soundtrack as [B, 32, 2, frames] (ComfyUI's
layout); the VAE takes the two channels as two batch items, its latents normalised per channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy

torch = lazy("torch")


@dataclass(eq=False)
class SoundtrackVae:
    """VAE (audio): MiniMax H3's soundtrack autoencoder, on a VAE socket as in ComfyUI."""

    vae: Any
    device: str
    dtype: Any

    @property
    def sample_rate(self) -> int:
        return int(self.vae.config.sampling_rate)

    @property
    def latent_channels(self) -> int:
        return int(self.vae.config.latent_channels)

    def decode_audio(self, latents: Any, field: str = "samples") -> Any:
        """The waveforms [B, 2, samples] of soundtrack latents [B, 32, 2, frames], as the pipeline's audio
        decode makes them: * latents_std + latents_mean per channel, then the VAE, left and right."""
        if latents.dim() != 4 or latents.shape[1] != self.latent_channels or latents.shape[2] != 2:
            raise NodeError(f"this is not a MiniMax H3 soundtrack latent [batch, {self.latent_channels}, 2, frames]: "
                            f"its shape is {tuple(latents.shape)}", field)
        config = self.vae.config
        mean = torch.tensor(config.latents_mean, device=self.device).view(1, -1, 1)
        std = torch.tensor(config.latents_std, device=self.device).view(1, -1, 1)
        waves = []
        with torch.no_grad():
            for item in latents.to(self.device, self.dtype):
                stereo = item.permute(1, 0, 2) * std + mean  # [left/right, 32, frames]
                waves.append(self.vae.decode(stereo.to(self.dtype), return_dict=False)[0].float().permute(1, 0, 2))
        return torch.cat(waves).cpu()


def audio_vae(model: Any, device: str, dtype: Any) -> SoundtrackVae:
    """The value a VAE loader gives for MiniMax H3's soundtrack VAE (`Family.audio_vae`)."""
    return SoundtrackVae(model, device, dtype)
