"""Differential Diffusion: an inpainting mask's grey levels as how much each area may change."""

from __future__ import annotations

import dataclasses
from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import FLOAT, MODEL


class DifferentialDiffusion(Node):
    type_id = "sampling.differential_diffusion"
    title = "Differential Diffusion"
    category = "sampling/inpaint"
    description = ("Reads a soft inpainting mask (a noise mask with grey levels, e.g. a feathered one) as "
                   "per-area strength: white areas change from the first step, an area at 30% grey only in the "
                   "last 30% of the steps, black never (Levin & Fried 2023). strength below 1 blends that with "
                   "the plain mask. Works with every sampler and convention.")
    inputs = (Input("model", MODEL), Input("strength", FLOAT, default=1.0, min=0.0, max=1.0, step=0.01))
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, strength: float = 1.0) -> tuple[Any]:
        return (dataclasses.replace(model, differential=float(strength)),)
