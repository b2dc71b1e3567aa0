"""Small ComfyUI classes that alone kept official templates from mapping: CameraAngle (the
multi-angle template), ModelSamplingAuraFlow's `sampling` widget (ComfyUI 0.5+), SDTurboScheduler
(the SDXL Turbo example), ModelAttentionBackend (Ming Image) and SamplerEulerAncestral (the LTX-2
first / last frame templates)."""

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


def _template(name: str) -> Path:
    templates = pytest.importorskip("comfyui_workflow_templates_json")
    path = Path(templates.__file__).parent / "templates" / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"this version of the templates package has no {name}")
    return path


def test_the_multi_angle_template_maps_fully_with_its_camera_prompt(registry):
    graph, report = import_source(read_source(_template("template_qwen_multiangle.app")), registry)
    assert report.fully_mapped, report.lines()
    camera = graph.nodes["221"]
    assert camera.type == "basic.camera_angle"
    assert camera.params == {"horizontal_angle": 333, "vertical_angle": 17, "zoom": 5.0}
    assert any(link.src == "221" and link.src_output == "prompt" for link in graph.links.values())
    assert any(link.dst == "221" and link.dst_input == "image" for link in graph.links.values())


def test_the_sdxl_turbo_example_maps_fully_with_its_turbo_scheduler(registry):
    graph, report = import_source(read_source(_template("sdxlturbo_example")), registry)
    assert report.fully_mapped, report.lines()
    (turbo,) = (n for n in graph.nodes.values() if n.type == "sampling.sd_turbo_scheduler")
    assert turbo.params == {"steps": 1, "denoise": 1.0}
    assert any(link.dst == turbo.id and link.dst_input == "model" for link in graph.links.values())


def test_the_ming_template_maps_fully_and_its_int8_attention_is_not_promised_comfyuis_pixels(registry):
    graph, report = import_source(read_source(_template("image_ming_image_01_design_t2i")), registry)
    assert report.fully_mapped, report.lines()
    assert any(cls == "ModelAttentionBackend" and node == "models.attention_backend" for _, cls, node in report.mapped)
    assert any("INT8 attention" in line for line in report.unproven), report.unproven


def _euler_ancestral_file(widgets: list) -> dict:
    """A lone SamplerEulerAncestral saved with `widgets` (eta, s_noise)."""
    nodes = [{"id": 1, "type": "SamplerEulerAncestral", "mode": 0, "widgets_values": widgets, "inputs": [],
              "outputs": [{"name": "SAMPLER", "type": "SAMPLER", "links": []}]}]
    return {"version": 0.4, "last_node_id": 1, "last_link_id": 0, "nodes": nodes, "links": []}


def test_euler_ancestral_maps_to_sampler_select_with_its_eta(registry):
    graph, report = import_data(_euler_ancestral_file([0, 1]), registry)
    assert report.fully_mapped, report.lines()
    node = graph.nodes["1"]
    assert node.type == "sampling.sampler_select"
    assert node.params == {"sampler_name": "euler_ancestral", "eta": 0.0}


def test_euler_ancestrals_scaled_noise_is_reported_not_carried(registry):
    graph, report = import_data(_euler_ancestral_file([1, 0.5]), registry)
    assert not report.fully_mapped
    assert any("'s_noise'" in line and "not carried over" in line for line in report.problems), report.problems
    assert graph.nodes["1"].params == {"sampler_name": "euler_ancestral", "eta": 1.0}
