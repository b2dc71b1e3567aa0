"""Model Attention Backend (ComfyUI's ModelAttentionBackend): the model passes through to PyTorch
attention, a comfy-kitchen choice says it runs as ComfyUI's fallback does, a bad choice is one line."""

from __future__ import annotations

import pytest
from graphs import add, new_graph

from nodeflow.core import RunContext
from nodeflow.core.errors import GraphEditError
from nodes.models.attention import KITCHEN, PYTORCH, ModelAttentionBackend
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
