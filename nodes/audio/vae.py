"""VAE Decode Audio (ComfyUI's VAEDecodeAudio): a soundtrack latent to sound through an audio VAE.

The audio VAE value says how it decodes (`decode_audio(latents, field)` -> waveform [B, channels,
samples], and `sample_rate`); a family's declared audio VAE (`Family.audio_vae`) makes one through its
adapter: MiniMax H3's soundtrack VAE (`nodes.minimax_h3._audio`), Stable Audio 3's SAME autoencoder
(`nodes.stable_audio3._vae`). A joint video + soundtrack LATENT gives its soundtrack ("audio_samples").
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import AUDIO, LATENT, VAE


class VAEDecodeAudio(Node):
    type_id = "audio.vae_decode"
    title = "VAE Decode Audio"
    category = "latent/audio"
    description = ("Turns a sound latent (or the soundtrack of a video + soundtrack latent) into sound with an "
                   "audio VAE: Stable Audio 3's, MiniMax H3's. LTX-2's soundtrack decodes with LTXV Audio VAE "
                   "Decode.")
    inputs = (Input("samples", LATENT), Input("vae", VAE, help="The audio VAE (Load VAE of an audio VAE)."))
    outputs = (Output("audio", AUDIO),)

    def run(self, ctx: RunContext, samples: dict, vae: Any) -> tuple[Any]:
        from nodes.media import make_audio

        decode = getattr(vae, "decode_audio", None)
        if decode is None:
            raise NodeError("this is not an audio VAE that decodes to sound here (Stable Audio 3's and MiniMax H3's "
                            "do; LTX-2's decodes with LTXV Audio VAE Decode)", "vae")
        latents = samples.get("audio_samples", samples["samples"])
        return (make_audio(decode(latents, "samples"), vae.sample_rate),)
