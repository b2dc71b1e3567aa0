"""Dual CFG Guider: guidance by two prompts and a negative (ComfyUI's DualCFGGuider), as edit models such
as HiDream-E1 and OmniGen2 are guided: the instruction with the picture (cond1) against the picture with the
negative prompt (cond2), that against the negative alone. The maths: `nodes.sampling._dual_cfg`."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CONDITIONING, FLOAT, GUIDER, MODEL, STRING

STYLES = ("regular", "nested")


class DualCFGGuider(Node):
    type_id = "sampling.dual_cfg_guider"
    title = "Dual CFG Guider"
    category = "sampling/custom"
    description = (
        "Guidance by two prompts and a negative, for Sample. regular: the negative pushed towards cond2 by "
        "cfg_cond2_negative, plus cond1's difference from cond2 times cfg_conds. nested: cond1 guided from "
        "cond2 by cfg_conds, that guided from the negative by cfg_cond2_negative. With cond2 the negative, "
        "regular is CFG Guider at cfg_conds."
    )
    inputs = (
        Input("model", MODEL),
        Input("cond1", CONDITIONING, help="The prompt to follow (an edit's instruction with its picture)."),
        Input("cond2", CONDITIONING, help="The prompt between the two (an edit's picture with the negative prompt)."),
        Input("negative", CONDITIONING),
        Input("cfg_conds", FLOAT, default=8.0, min=0.0, max=100.0, step=0.1,
              help="How far cond1 is pushed from cond2."),
        Input("cfg_cond2_negative", FLOAT, default=8.0, min=0.0, max=100.0, step=0.1,
              help="How far cond2 is pushed from the negative."),
        Input("style", STRING, default="regular", choices=STYLES),
    )
    outputs = (Output("guider", GUIDER),)

    def run(self, ctx: RunContext, model: Any, cond1: Any, cond2: Any, negative: Any, cfg_conds: float,
            cfg_cond2_negative: float, style: str) -> tuple[Any]:
        from nodes.values import Guider

        if style not in STYLES:
            raise NodeError(f"unknown style '{style}' (known: {', '.join(STYLES)})", "style")
        return (Guider(model, cond1, negative, float(cfg_conds), middle=(cond2, float(cfg_cond2_negative),
                                                                           style == "nested")),)
