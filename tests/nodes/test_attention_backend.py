"""Model Attention Backend (ComfyUI's ModelAttentionBackend): the model passes through to PyTorch
attention, a comfy-kitchen choice says it runs as ComfyUI's fallback does, a bad choice is one line.
Block Sparse Attention (ComfyUI's BlockSparseAttention) passes the model through to dense attention,
saying so once."""

from __future__ import annotations

import pytest
from graphs import add, new_graph

from nodeflow.core import RunContext
from nodeflow.core.errors import GraphEditError
from nodes.models.attention import KITCHEN, PYTORCH, SOL, BlockSparseAttention, ModelAttentionBackend
from nodes.models.checkpoint import LoadCheckpoint


@pytest.mark.parametrize(("attention", "warnings"), [
    (PYTORCH, []),
    (KITCHEN, ["3: warning: comfy kitchen attention (INT8) is not available in NodeFlow: the model runs PyTorch "
               "attention, ComfyUI's own fallback"]),
])
def test_the_model_runs_pytorch_attention_and_a_kitchen_choice_says_so(tiny_sd, attention, warnings):
    model = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))[0]
    said: list[str] = []
    context = RunContext(node_id="3", on_message=lambda node, line: said.append(f"{node}: {line}"))
    assert ModelAttentionBackend().run(context, model, attention) == (model,)
    assert said == warnings


def test_a_backend_comfyui_does_not_offer_is_one_line_naming_node_and_field():
    graph = new_graph()
    with pytest.raises(GraphEditError) as info:
        add(graph, "models.attention_backend", attention="sage attention")
    message = str(info.value)
    assert "\n" not in message and "node 1 input 'attention': 'sage attention' is not one of" in message


def test_block_sparse_attention_runs_dense_and_says_so(tiny_sd):
    model = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))[0]
    said: list[str] = []
    context = RunContext(node_id="4", on_message=lambda node, line: said.append(f"{node}: {line}"))
    assert BlockSparseAttention().run(context, model, SOL, 10.0, 1.3, 0.2, 1.0, "", 12288, 256,
                                      "exact_kv_and_rows", False) == (model,)
    assert said == ["4: warning: block-sparse attention (sol-attn) is not available in NodeFlow: the model runs "
                    "dense PyTorch attention, as ComfyUI does where its sparse kernel does not apply"]


def test_a_sparse_selection_comfyui_does_not_offer_is_one_line_naming_node_and_field():
    graph = new_graph()
    with pytest.raises(GraphEditError) as info:
        add(graph, "models.block_sparse_attention", selection="radial")
    message = str(info.value)
    assert "\n" not in message and "node 1 input 'selection': 'radial' is not one of" in message
