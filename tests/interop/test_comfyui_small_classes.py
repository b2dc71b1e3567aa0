"""Small ComfyUI classes that alone kept official templates from mapping: CameraAngle (the
multi-angle template) and ModelSamplingAuraFlow's `sampling` widget (ComfyUI 0.5+)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow.interop.comfyui import import_data, import_source
from nodeflow.interop.comfyui.source import read_source


def _aura_flow_file(widgets: list) -> dict:
    """A UNETLoader feeding a ModelSamplingAuraFlow saved with `widgets`."""
    nodes = [
        {"id": 1, "type": "UNETLoader", "mode": 0, "widgets_values": ["qwen_image.safetensors", "default"],
         "inputs": [], "outputs": [{"name": "MODEL", "type": "MODEL", "links": [1]}]},
        {"id": 2, "type": "ModelSamplingAuraFlow", "mode": 0, "widgets_values": widgets,
         "inputs": [{"name": "model", "type": "MODEL", "link": 1}],
         "outputs": [{"name": "MODEL", "type": "MODEL", "links": []}]},
    ]
    return {"version": 0.4, "last_node_id": 2, "last_link_id": 1, "nodes": nodes,
            "links": [[1, 1, 0, 2, 0, "MODEL"]]}


@pytest.mark.parametrize("widgets", [[3.1, "flow"], [3.1]])
def test_aura_flow_with_its_flow_sampling_or_saved_before_it_maps_fully(registry, widgets):
    graph, report = import_data(_aura_flow_file(widgets), registry)
    assert report.fully_mapped, report.lines()
    assert graph.nodes["2"].params == {"shift": 3.1}


def test_aura_flows_img_to_img_velocity_is_reported_not_carried(registry):
    graph, report = import_data(_aura_flow_file([1.73, "img_to_img_velocity"]), registry)
    assert not report.fully_mapped
    assert any("'sampling'" in line and "img_to_img_velocity" in line and "not carried over" in line
               for line in report.problems), report.problems
    assert graph.nodes["2"].params == {"shift": 1.73}


def test_the_multi_angle_template_maps_fully_with_its_camera_prompt(registry):
    templates = pytest.importorskip("comfyui_workflow_templates_json")
    path = Path(templates.__file__).parent / "templates" / "template_qwen_multiangle.app.json"
    if not path.is_file():
        pytest.skip("this version of the templates package has no multi-angle template")
    graph, report = import_source(read_source(path), registry)
    assert report.fully_mapped, report.lines()
    camera = graph.nodes["221"]
    assert camera.type == "basic.camera_angle"
    assert camera.params == {"horizontal_angle": 333, "vertical_angle": 17, "zoom": 5.0}
    assert any(link.src == "221" and link.src_output == "prompt" for link in graph.links.values())
    assert any(link.dst == "221" and link.dst_input == "image" for link in graph.links.values())
