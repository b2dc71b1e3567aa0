"""LTX-2's soundtrack nodes, in ComfyUI's vocabulary: LTXVAudioVAELoader and LTXVAudioVAEDecode."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import AUDIO, LATENT, STRING, VAE
from nodes.ltx2._audio import AUDIO_PREFIX, VOCODER_PREFIX
from nodes.ltx2.latents import audio_vae_of


class LoadAudioVAE(Node):
    type_id = "ltx2.load_audio_vae"
    title = "Load LTXV Audio VAE"
    category = "models"
    description = ("Loads LTX-2's audio VAE and vocoder from an LTX-2 checkpoint (its audio_vae. and vocoder. "
                   "weights and config): what makes and decodes the soundtrack latent.")
    inputs = (Input("ckpt_name", STRING, default="", file="file", model="checkpoints",
                    help="An LTX-2 checkpoint (.safetensors) holding the audio VAE."),)
    outputs = (Output("audio_vae", VAE),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The audio VAE's and vocoder's tensors, counted off the file's header."""
        from nodes.models._weights import safetensors_header

        name = params.get("ckpt_name")
        if not isinstance(name, str) or not name.strip():
            return []
        total = sum(math.prod(int(d) for d in entry.get("shape", ()))
                    for key, entry in safetensors_header(resolve(name)).items()
                    if key.startswith((AUDIO_PREFIX, VOCODER_PREFIX)))
        return [Weights("vae", "audio_vae", total)] if total else []

    def run(self, ctx: RunContext, ckpt_name: str) -> tuple[Any]:
        from nodes.ltx2._audio import load_audio_vae
        from nodes.models._model_path import model_path
        from nodes.models._precision import compute_dtype
        from nodes.models._store import load_once

        path = model_path(ctx, ckpt_name, "ckpt_name", "checkpoint", folders=False)
        dtype = compute_dtype(ctx.device)
        key = ("ltx2-audio-vae", str(path.resolve()), str(dtype), ctx.device)
        return (load_once(ctx, type(self), {"ckpt_name": path}, key,
                          lambda place: load_audio_vae(path, ctx.device, dtype, place, "ckpt_name")),)


class AudioVAEDecode(Node):
    type_id = "ltx2.audio_vae_decode"
    title = "LTXV Audio VAE Decode"
    category = "latent/ltx2"
    description = ("Decodes an LTX-2 soundtrack latent (or the soundtrack of a joint audio-video latent) to "
                   "sound: the audio VAE makes a mel spectrogram, the vocoder the waveform.")
    inputs = (Input("samples", LATENT), Input("audio_vae", VAE, help="LTX-2's audio VAE (Load LTXV Audio VAE)."))
    outputs = (Output("audio", AUDIO),)

    def run(self, ctx: RunContext, samples: dict, audio_vae: Any) -> tuple[Any]:
        from nodeflow.core import NodeError
        from nodes.ltx2._audio import decode
        from nodes.media import make_audio

        vae = audio_vae_of(audio_vae, "audio_vae")
        latents = samples.get("audio_samples", samples["samples"])
        if latents.dim() != 4 or latents.shape[1] != vae.latent_channels:
            raise NodeError(f"this is not an LTX-2 soundtrack latent [batch, {vae.latent_channels}, frames, "
                            f"bins]: its shape is {tuple(latents.shape)}", "samples")
        waveform = decode(vae, latents)
        return (make_audio(waveform.float().cpu(), vae.sample_rate),)
