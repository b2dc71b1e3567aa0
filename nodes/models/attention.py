"""Which attention kernel a model runs: Model Attention Backend (ComfyUI's ModelAttentionBackend) and
Block Sparse Attention (ComfyUI's BlockSparseAttention).

ComfyUI offers PyTorch attention (its default) and, where its comfy-kitchen module is installed on
an Nvidia or AMD GPU, comfy-kitchen's INT8-quantised attention; where the kitchen is missing it
falls back to PyTorch attention and logs a warning. NodeFlow's models run PyTorch's
scaled_dot_product_attention (diffusers' default processors) and NodeFlow has no INT8 attention, so
a model passes through unchanged and a kitchen choice runs as ComfyUI's fallback does, saying so.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import BOOLEAN, FLOAT, INT, MODEL, STRING

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


VSA = "vsa"
SOL = "sol-attn"
SLA = "sla"
SELECTIONS = (VSA, SOL, SLA)
SINKS = ("off", "exact_kv", "exact_kv_and_rows")


class BlockSparseAttention(Node):
    """ComfyUI's BlockSparseAttention computes each attention on a chosen subset of key blocks
    (VSA and SLA keep a percentage, sol-attn a threshold tau) between start_percent and end_percent
    of sampling, with CUDA kernels from comfy-kitchen; where a kernel, dtype or token count does not
    fit it runs ComfyUI's dense attention. NodeFlow has no block-sparse kernel, so the model passes
    through and runs dense PyTorch attention: the settings are kept (they travel back to ComfyUI),
    and the run says once that the sparse approximation did not happen."""

    type_id = "models.block_sparse_attention"
    title = "Block Sparse Attention"
    category = "models"
    description = ("Block-sparse attention for long video sequences (ComfyUI's BlockSparseAttention: VSA, "
                   "sol-attn, SLA). NodeFlow has no block-sparse kernel: the model runs dense PyTorch "
                   "attention, as ComfyUI does where its sparse kernel does not apply; the settings are kept.")
    inputs = (
        Input("model", MODEL),
        Input("selection", STRING, default=VSA, choices=SELECTIONS,
              help="how key blocks are chosen: vsa / sla keep a percentage, sol-attn a threshold"),
        Input("keep_percent", FLOAT, default=10.0, min=0.5, max=95.0, help="vsa and sla: key blocks kept, %"),
        Input("tau", FLOAT, default=1.3, min=0.0, max=4.0, help="sol-attn: selection threshold"),
        Input("start_percent", FLOAT, default=0.2, min=0.0, max=1.0),
        Input("end_percent", FLOAT, default=1.0, min=0.0, max=1.0),
        Input("dense_blocks", STRING, default="", help="transformer blocks kept dense"),
        Input("min_tokens", INT, default=12288, min=0, help="shorter sequences stay dense"),
        Input("extra_tokens", INT, default=256, min=0),
        Input("sink_conditioning", STRING, default="exact_kv_and_rows", choices=SINKS),
        Input("verbose", BOOLEAN, default=False),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, selection: str, keep_percent: float, tau: float,
            start_percent: float, end_percent: float, dense_blocks: str, min_tokens: int, extra_tokens: int,
            sink_conditioning: str, verbose: bool) -> tuple[Any]:
        ctx.warn(f"block-sparse attention ({selection}) is not available in NodeFlow: the model runs dense "
                 "PyTorch attention, as ComfyUI does where its sparse kernel does not apply")
        return (model,)
