"""Skip Layer Guidance for SD3 / SD3.5 (ComfyUI's SkipLayerGuidanceSD3, diffusers' skip_guidance_layers).

Guidance towards detail and structure: besides the prompts' calls, the positive prompt runs once more
with some transformer blocks skipped, and the result is pushed away from that weakened output:
guided + (cond - skipped) * scale. It is on for a span of the run only (start / end as fractions).
When it applies follows each convention: the diffusers convention's steps are
StableDiffusion3Pipeline's (only with cfg above 1); the comfyui convention's are ComfyUI's sigma span
(cfg 1 included). The model carries the settings (`values.SkipLayers`); sampling does the rest.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import FLOAT, MODEL, STRING

_LAYERS_HELP = ("The transformer blocks to skip, by number from 0, separated by commas (SD3.5 medium: "
                "7, 8, 9; SD3.5 large: 7, 8, 9 too, diffusers suggests 7, 8, 9 for both).")


class SkipLayerGuidanceSD3(Node):
    type_id = "sd3.skip_layer_guidance"
    title = "Skip Layer Guidance (SD3)"
    category = "models/sd3"
    description = ("Sharper structure and detail for SD3 / SD3.5: one more model call per step with some "
                   "transformer blocks skipped, and the picture pushed away from that weaker result, "
                   "for part of the run. Costs a model call per step while on.")
    inputs = (
        Input("model", MODEL),
        Input("layers", STRING, default="7, 8, 9", help=_LAYERS_HELP),
        Input("scale", FLOAT, default=3.0, min=0.0, max=10.0, step=0.1,
              help="How far the picture is pushed away from the skipped-blocks result (0: off)."),
        Input("start_percent", FLOAT, default=0.01, min=0.0, max=1.0, step=0.001,
              help="Where in the run it starts (a fraction: 0 is the first step)."),
        Input("end_percent", FLOAT, default=0.15, min=0.0, max=1.0, step=0.001,
              help="Where in the run it ends (a fraction: 1 is the last step)."),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, layers: str, scale: float, start_percent: float,
            end_percent: float) -> tuple[Any]:
        from nodes.values import SkipLayers

        spec = model.spec
        if spec is None or not spec.skip_layer_guidance:
            title = spec.title if spec is not None else "this SD checkpoint"
            raise NodeError(f"Skip Layer Guidance skips blocks of an SD3 / SD3.5 transformer; {title} has none "
                            "it can skip", "model")
        numbers = tuple(int(n) for n in re.findall(r"\d+", layers))
        if not numbers or float(scale) == 0.0:
            return (model,)  # nothing to skip: the model as it is, as ComfyUI does
        depth = int(model.unet.config.num_layers)
        if max(numbers) >= depth:
            raise NodeError(f"layer {max(numbers)} does not exist: this transformer has blocks 0 to {depth - 1}",
                            "layers")
        skip = SkipLayers(numbers, float(scale), float(start_percent), float(end_percent))
        return (dataclasses.replace(model, skip_layers=skip),)
