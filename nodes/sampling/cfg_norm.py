"""CFG Norm and Renorm CFG: classifier-free guidance kept from overshooting the positive prompt's size
(ComfyUI's CFGNorm, and RenormCFG, made for Lumina 2).

Strong guidance on edit models (Qwen-Image Edit and the families built like it) pushes the guided
prediction past the scale of what the positive prompt alone predicts, which washes out colours.
CFG Norm scales the guided result back, per latent cell, by the norm over the channels:

- after guidance (the default): the guided denoised image x0 is multiplied by
  min(1, |x0_positive| / (|x0| + 1e-8)) and by `strength` (so it only attenuates while strength <= 1);
- before guidance (`pre_cfg`): the guided noise direction (x - x0 of the mix) is scaled to the norm of
  the positive prompt's, without a clamp, and `strength` blends it with the plain mix.

Renorm CFG replaces the mix itself: the guided x0, while sigma is below cfg_trunc, is scaled down to
`renorm_cfg` times the positive prompt's norm over the whole sample when it reaches it; from cfg_trunc
on, the positive prompt alone (`_cfg_norm.renorm`).

This is sampling as ComfyUI does it: the comfyui convention runs them (`_cfg_norm`); the diffusers
convention (whose pipelines have their own rescaling, e.g. QwenImagePipeline's true CFG, Lumina2Pipeline's
cfg_normalization: Lumina 2 Guidance) refuses them in one line.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
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


class RenormCFG(Node):
    type_id = "sampling.renorm_cfg"
    title = "Renorm CFG"
    category = "sampling/guidance"
    description = ("ComfyUI's RenormCFG (made for Lumina 2): the guided prediction is scaled down to renorm_cfg "
                   "times the positive prompt's size when it reaches it (0: no limit), and from a noise level of "
                   "cfg_trunc on only the positive prompt guides (100: never). Runs in the comfyui convention.")
    inputs = (
        Input("model", MODEL),
        Input("cfg_trunc", FLOAT, default=100.0, min=0.0, max=100.0, step=0.01,
              help="Guidance only below this noise level (sigma; a flow model's run from 1 to 0)."),
        Input("renorm_cfg", FLOAT, default=1.0, min=0.0, max=100.0, step=0.01,
              help="The largest guided size, as a multiple of the positive prompt's; 0: no limit."),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, cfg_trunc: float = 100.0, renorm_cfg: float = 1.0) -> tuple[Any]:
        for name, value in (("cfg_trunc", cfg_trunc), ("renorm_cfg", renorm_cfg)):
            if not 0.0 <= float(value) <= 100.0:
                raise NodeError(f"{name} must be between 0 and 100, not {value:g}", name)
        return (dataclasses.replace(model, renorm_cfg=(float(cfg_trunc), float(renorm_cfg))),)
