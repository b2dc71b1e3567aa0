"""Sampler Custom: ComfyUI's SamplerCustom as one node (noise + CFG guider + Sample), for imports.

It is exactly Random Noise (or Disable Noise) -> CFG Guider -> Sample, so its pixels are theirs;
a workflow built in NodeFlow can use those parts instead.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import BOOLEAN, CONDITIONING, FLOAT, INT, LATENT, MODEL, SAMPLER, SIGMAS
from nodes.sampling.sampler import SEED_MAX


class SamplerCustom(Node):
    type_id = "sampling.sampler_custom"
    title = "Sampler Custom"
    category = "sampling/custom"
    description = ("Samples with a chosen sampler and noise levels (sigmas), adding seeded noise first "
                   "unless add_noise is off: Random Noise, CFG Guider and Sample in one node, as "
                   "ComfyUI's SamplerCustom.")
    inputs = (
        Input("model", MODEL),
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING, optional=True),
        Input("sampler", SAMPLER),
        Input("sigmas", SIGMAS),
        Input("latent_image", LATENT),
        Input("add_noise", BOOLEAN, default=True),
        Input("noise_seed", INT, default=0, min=0, max=SEED_MAX, seed=True),
        Input("cfg", FLOAT, default=8.0, min=0.0, max=100.0, step=0.1),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, model: Any, positive: Any, negative: Any, sampler: Any, sigmas: Any,
            latent_image: dict, add_noise: bool, noise_seed: int, cfg: float) -> tuple[dict]:
        from nodes.sampling._convention import run
        from nodes.values import Guider, NoiseSource

        noise = NoiseSource(int(noise_seed)) if add_noise else NoiseSource(0, enabled=False)
        guider = Guider(model, positive, negative, float(cfg), 0.0)
        return (run(ctx, guider, sampler, sigmas, noise, latent_image),)
