"""Opening a ComfyUI UI file in the editor keeps its Reroute dots as NodeFlow reroutes on the
canvas, where they stood, instead of dropping them."""

from __future__ import annotations

import json

import pytest

from nodeflow.core import default_registry
from tests.interop.comfy_graphs import ui_workflow

from .helpers import main_window


@pytest.fixture
def builtin(qtbot, tmp_path):
    with main_window(qtbot, default_registry(), tmp_path) as win:
        yield win


def test_a_comfyui_reroute_opens_as_a_reroute_on_the_canvas(qtbot, builtin, tmp_path):
    path = tmp_path / "comfy_ui.json"
    path.write_text(json.dumps(ui_workflow()))
    assert builtin.files.open(path, confirm=False)
    graph = builtin.document.graph
    reroutes = [i for i, r in graph.nodes.items() if r.type == "basic.reroute"]
    assert reroutes == ["10"]
    assert graph.link_into("3", "latent_image").src == "10" and graph.link_into("10", "value").src == "5"
    item = builtin.scene.nodes["10"]
    assert (item.pos().x(), item.pos().y()) == (600.0, 300.0)
    assert graph.output_type("10", "value") == "LATENT"  # the dot carries its source's type
