"""Model Attention Backend (ComfyUI's ModelAttentionBackend): which attention kernel a model runs.

ComfyUI offers PyTorch attention (its default) and, where its comfy-kitchen module is installed on
an Nvidia or AMD GPU, comfy-kitchen's INT8-quantised attention; where the kitchen is missing it
falls back to PyTorch attention and logs a warning. NodeFlow's models run PyTorch's
scaled_dot_product_attention (diffusers' default processors) and NodeFlow has no INT8 attention, so
a model passes through unchanged and a kitchen choice runs as ComfyUI's fallback does, saying so.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import MODEL, STRING

PYTORCH = "pytorch attention"
KITCHEN = "comfy kitchen attention"
BACKENDS = (PYTORCH, KITCHEN)


class ModelAttentionBackend(Node):
    type_id = "models.attention_backend"
    title = "Model Attention Backend"
    category = "models"
    description = ("Which attention kernel the model runs (ComfyUI's ModelAttentionBackend). NodeFlow runs "
                   "PyTorch attention; 'comfy kitchen attention' (ComfyUI's INT8 attention, a GPU speed-up "
                   "whose pixels differ slightly) runs as PyTorch attention, as ComfyUI does where the "
                   "kitchen is not installed.")
    inputs = (
        Input("model", MODEL),
        Input("attention", STRING, default=PYTORCH, choices=BACKENDS),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, attention: str) -> tuple[Any]:
        if attention == KITCHEN:
            ctx.warn("comfy kitchen attention (INT8) is not available in NodeFlow: the model runs PyTorch "
                     "attention, ComfyUI's own fallback")
        return (model,)
