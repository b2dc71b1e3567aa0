"""Empty Latent Audio (ComfyUI's EmptyLatentAudio): a blank sound latent of so many seconds.

It names no model, as in ComfyUI: the latent is made at ComfyUI's size (Stable Audio Open's 64 channels at
2048 samples a step, 44.1 kHz) and the sampler rebuilds it for the audio model it samples with
(`nodes.latent._sizes.fit_empty_latent`: its channels, and the seconds in whole latent steps of its VAE).
"""

from __future__ import annotations

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import FLOAT, INT, LATENT

#: ComfyUI's blank sound latent: channels, samples a step, sample rate.
COMFY_CHANNELS, COMFY_STEP, COMFY_RATE = 64, 2048, 44100


class EmptyLatentAudio(Node):
    type_id = "audio.empty_latent"
    title = "Empty Latent Audio"
    category = "latent/audio"
    description = ("A blank sound latent of `seconds` for an audio model (Stable Audio 3): the sampler sizes it "
                   "for the model, in whole latent steps (rounded up).")
    inputs = (
        Input("seconds", FLOAT, default=47.6, min=1.0, max=1000.0, step=0.1),
        Input("batch_size", INT, default=1, min=1, max=64, help="How many sounds to make at once."),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, seconds: float, batch_size: int) -> tuple[dict]:
        import torch

        steps = round(float(seconds) * COMFY_RATE / COMFY_STEP / 2) * 2
        samples = torch.zeros((int(batch_size), COMFY_CHANNELS, steps))
        return ({"samples": samples, "downscale": COMFY_STEP, "empty_seconds": float(seconds)},)
