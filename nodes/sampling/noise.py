"""Noise sources for custom sampling."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import INT, NOISE, SEED_MAX


class RandomNoise(Node):
    type_id = "noise.random"
    title = "Random Noise"
    category = "sampling/custom"
    infotext = {"seed": "seed"}
    description = (
        "Seeded noise for Sample. The noise is drawn on the CPU from this seed, so the same seed "
        "gives the same image on CPU, CUDA and MPS. All randomness of a sampling run (img2img's "
        "posterior sample, the start noise, ancestral steps) comes from this one seed."
    )
    inputs = (Input("seed", INT, default=0, min=0, max=SEED_MAX, seed=True),)
    outputs = (Output("noise", NOISE),)

    def run(self, ctx: RunContext, seed: int) -> tuple[Any]:
        from nodes.values import NoiseSource

        return (NoiseSource(int(seed)),)


class DisableNoise(Node):
    type_id = "noise.disable"
    title = "Disable Noise"
    category = "sampling/custom"
    description = (
        "No start noise: Sample denoises the latent as it is, e.g. to continue a run split over "
        "two Sample nodes with Split Sigmas (the second gets the low sigmas). Ancestral samplers "
        "still draw their per-step noise from seed 0, as in ComfyUI."
    )
    inputs = ()
    outputs = (Output("noise", NOISE),)

    def run(self, ctx: RunContext) -> tuple[Any]:
        from nodes.values import NoiseSource

        return (NoiseSource(0, enabled=False),)
