"""CFG Norm: classifier-free guidance kept from overshooting the positive prompt's size (ComfyUI's CFGNorm).

Strong guidance on edit models (Qwen-Image Edit and the families built like it) pushes the guided
prediction past the scale of what the positive prompt alone predicts, which washes out colours.
CFG Norm scales the guided result back, per latent cell, by the norm over the channels:

- after guidance (the default): the guided denoised image x0 is multiplied by
  min(1, |x0_positive| / (|x0| + 1e-8)) and by `strength` (so it only attenuates while strength <= 1);
- before guidance (`pre_cfg`): the guided noise direction (x - x0 of the mix) is scaled to the norm of
  the positive prompt's, without a clamp, and `strength` blends it with the plain mix.

This is sampling as ComfyUI does it: the comfyui convention runs it (`_cfg_norm.apply`); the diffusers
convention (whose pipelines have their own rescaling, e.g. QwenImagePipeline's true CFG) refuses it
in one line.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import BOOLEAN, FLOAT, MODEL


class CFGNorm(Node):
    type_id = "sampling.cfg_norm"
    title = "CFG Norm"
    category = "sampling/guidance"
    description = ("Keeps classifier-free guidance from growing the prediction beyond the positive prompt's own "
                   "size, per latent cell (the edit models' templates use it against washed-out colours), as "
                   "ComfyUI's CFGNorm. pre_cfg rescales the guided noise before the mix instead, without a limit. "
                   "Runs in the comfyui convention.")
    inputs = (
        Input("model", MODEL),
        Input("strength", FLOAT, default=1.0, min=0.0, max=100.0, step=0.01,
              help="1 = the full rescale; above 1 amplifies the prediction at every step."),
        Input("pre_cfg", BOOLEAN, default=False, help="Rescale the guided noise before the mix, without a limit."),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, strength: float = 1.0, pre_cfg: bool = False) -> tuple[Any]:
        return (dataclasses.replace(model, cfg_norm=(float(strength), bool(pre_cfg))),)
