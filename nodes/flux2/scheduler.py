"""Flux.2's noise levels for a picture size: ComfyUI's Flux2Scheduler, from the maths.

Flux.2 shifts its time by how many tokens the picture has and how many steps run (BFL's empirical
fit, diffusers' `compute_empirical_mu`): sigma(u) = e^mu / (e^mu + 1/u - 1) at u = 1, 1 - 1/n, ..., 0,
for a picture of width x height pixels in 16-pixel tokens.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import INT, SIGMAS


class Flux2Scheduler(Node):
    type_id = "flux2.scheduler"
    title = "Flux.2 Scheduler"
    category = "sampling/custom"
    description = ("Flux.2's noise levels for a picture of this size and number of steps (its shift grows with "
                   "the picture's 16-pixel tokens and with fewer steps), as ComfyUI's Flux2Scheduler; for "
                   "Sample with a Flux.2 model.")
    inputs = (
        Input("steps", INT, default=20, min=1, max=4096),
        Input("width", INT, default=1024, min=16, max=16384),
        Input("height", INT, default=1024, min=16, max=16384),
    )
    outputs = (Output("sigmas", SIGMAS),)

    def run(self, ctx: RunContext, steps: int, width: int, height: int) -> tuple[Any]:
        import torch
        from diffusers.pipelines.flux2.pipeline_flux2 import compute_empirical_mu

        from nodes.sampling._flow_table import shifted
        from nodes.values import Sigmas

        mu = compute_empirical_mu(round(int(width) * int(height) / (16 * 16)), int(steps))
        return (Sigmas(shifted("exponential", mu, torch.linspace(1, 0, int(steps) + 1))),)
