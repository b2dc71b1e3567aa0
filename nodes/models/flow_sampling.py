"""The noise-level shift of flow models (ComfyUI's ModelSamplingFlux / SD3 / AuraFlow).

A flow model is sampled at sigmas moved towards the noisy end by a shift. Each node sets it in both
conventions on a copy of the model's scheduler config:
- diffusers: FlowMatchEulerDiscreteScheduler's own settings (`shift`; or `use_dynamic_shifting` with
  `base_shift` / `max_shift`, where mu follows the picture's token count as in FluxPipeline);
- comfyui: `comfy_sampling` = {"kind", "shift"}: "linear" sigma = s*t / (1 + (s - 1)*t) (SD3 and
  AuraFlow; Esser et al. 2024, eq. 23) or "exponential" sigma = e^mu / (e^mu + 1/t - 1) with mu
  linear in the token count between (256, base_shift) and (4096, max_shift) (Flux).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import FLOAT, INT, MODEL

COMFY_KEY = "comfy_sampling"


def _flow_copy(model: Any, changes: dict[str, Any], field: str = "model") -> Any:
    spec = model.spec
    if spec is None or not spec.is_flow:
        raise NodeError("this sets the shift of flow models (Flux, SD3, Chroma, ...); use Model Sampling for "
                        "SD checkpoints", field)
    return dataclasses.replace(model, scheduler_config={**model.scheduler_config, **changes})


def flux_mu(width: int, height: int, base_shift: float, max_shift: float) -> float:
    """mu for a picture of width x height pixels: Flux's 2x2-packed tokens of an 8x VAE, linear
    between 256 tokens (base_shift) and 4096 (max_shift)."""
    tokens = width * height / (8 * 8 * 2 * 2)
    slope = (max_shift - base_shift) / (4096 - 256)
    return tokens * slope + base_shift - slope * 256


class ModelSamplingFlux(Node):
    type_id = "models.model_sampling_flux"
    title = "Model Sampling Flux"
    category = "models/flow"
    description = ("Flux's resolution-dependent shift: bigger pictures are sampled more on the noisy side. "
                   "width and height give the picture size the shift is computed for (the comfyui "
                   "convention); the diffusers convention computes it from the latent, as FluxPipeline.")
    inputs = (
        Input("model", MODEL),
        Input("max_shift", FLOAT, default=1.15, min=0.0, max=100.0, step=0.01),
        Input("base_shift", FLOAT, default=0.5, min=0.0, max=100.0, step=0.01),
        Input("width", INT, default=1024, min=16, max=16384, step=8),
        Input("height", INT, default=1024, min=16, max=16384, step=8),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, max_shift: float, base_shift: float, width: int,
            height: int) -> tuple[Any]:
        mu = flux_mu(int(width), int(height), float(base_shift), float(max_shift))
        return (_flow_copy(model, {"use_dynamic_shifting": True, "base_shift": float(base_shift),
                                   "max_shift": float(max_shift),
                                   COMFY_KEY: {"kind": "exponential", "shift": mu}}),)


class ModelSamplingSD3(Node):
    type_id = "models.model_sampling_sd3"
    title = "Model Sampling SD3"
    category = "models/flow"
    description = ("A constant shift for flow models (SD3 uses 3): higher values spend more steps on the "
                   "noisy side (composition), lower on detail.")
    inputs = (Input("model", MODEL), Input("shift", FLOAT, default=3.0, min=0.0, max=100.0, step=0.01))
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, shift: float) -> tuple[Any]:
        return (_flow_copy(model, {"use_dynamic_shifting": False, "shift": float(shift),
                                   COMFY_KEY: {"kind": "linear", "shift": float(shift)}}),)


class ModelSamplingAuraFlow(ModelSamplingSD3):
    type_id = "models.model_sampling_aura_flow"
    title = "Model Sampling AuraFlow"
    description = ("A constant shift for flow models, as ComfyUI's ModelSamplingAuraFlow (used with Chroma, "
                   "Lumina 2, Z-Image, Qwen-Image; 1.73 by default). The same shift formula as SD3's.")
    inputs = (Input("model", MODEL), Input("shift", FLOAT, default=1.73, min=0.0, max=100.0, step=0.01))
