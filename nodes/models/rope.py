"""Scale ROPE (ComfyUI's ScaleROPE): a model whose transformer places its tokens at scaled and shifted
rotary positions, token i of an axis at shift + i x scale (x: columns, y: rows, t: frames).

ChronoEdit's template sets scale_t 7, which puts its two latent frames where the model was trained to see
them (diffusers' ChronoEditRotaryPosEmbed). The family's adapter applies the positions (it declares
`SCALES_ROPE`: Wan's, `nodes.wan._rope`); a model of another family is one line.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import FLOAT, MODEL

_SCALE = dict(default=1.0, min=0.0, max=100.0, step=0.1)
_SHIFT = dict(default=0.0, min=-256.0, max=256.0, step=0.1)


class ScaleRope(Node):
    type_id = "models.scale_rope"
    title = "Scale ROPE"
    category = "models/patches"
    description = ("Scales and shifts the rotary positions a video transformer gives its tokens, per axis "
                   "(x: columns, y: rows, t: frames): token i sits at shift + i x scale. ChronoEdit uses "
                   "scale_t 7. Wan's transformers take it.")
    inputs = (
        Input("model", MODEL),
        Input("scale_x", FLOAT, **_SCALE), Input("shift_x", FLOAT, **_SHIFT),
        Input("scale_y", FLOAT, **_SCALE), Input("shift_y", FLOAT, **_SHIFT),
        Input("scale_t", FLOAT, **_SCALE), Input("shift_t", FLOAT, **_SHIFT),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, scale_x: float = 1.0, shift_x: float = 0.0, scale_y: float = 1.0,
            shift_y: float = 0.0, scale_t: float = 1.0, shift_t: float = 0.0) -> tuple[Any]:
        spec = model.spec
        if spec is None or not getattr(spec.module(), "SCALES_ROPE", False):
            title = spec.title if spec is not None else "this UNet"
            raise NodeError(f"{title}'s transformer does not take scaled rotary positions in NodeFlow (Wan's do)",
                            "model")
        options = tuple(float(v) for v in (scale_x, shift_x, scale_y, shift_y, scale_t, shift_t))
        return (dataclasses.replace(model, rope_options=options),)
