"""Export to ComfyUI's API format and the round trips through it."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from nodeflow.core import workflow
from nodeflow.interop.comfyui import export_api, import_data
from nodeflow.interop.loading import open_workflow
from tests.interop.comfy_graphs import txt2img_api, ui_workflow


def _clean(prompt: dict) -> dict:
    """An API prompt without what the server ignores: _meta, is_changed, LoadImage's upload key."""
    out = {}
    for node_id, node in prompt.items():
        inputs = {k: v for k, v in node["inputs"].items() if k not in ("upload", "choose file to upload")}
        out[node_id] = {"class_type": node["class_type"], "inputs": inputs}
    return out


def test_api_round_trip_keeps_every_value(registry):
    prompt = txt2img_api(denoise=0.63, steps=13)
    prompt["12"] = {"class_type": "SomeCustomNode", "inputs": {"strength": 0.3, "mode": "x", "image": ["8", 0]},
                    "_meta": {"title": "Mine"}}
    graph, report = import_data(prompt, registry)
    sampler = graph.nodes["3"].params
    assert (sampler["steps"], sampler["denoise"], sampler["convention"]) == (13, 0.63, "comfyui")
    assert "node 3 (KSampler): ComfyUI's pixels are expected: deterministic" in report.notes
    back, problems = export_api(graph)
    assert problems == []
    assert _clean(back) == _clean(prompt)
    assert back["12"]["_meta"]["title"] == "Mine"
    text = workflow.dumps(graph)  # through a saved NodeFlow file as well
    again, _ = workflow.loads(text, registry)
    assert _clean(export_api(again)[0]) == _clean(prompt)


def test_diffusers_convention_converts_denoise_both_ways(registry):
    prompt = txt2img_api(denoise=0.63, steps=13)
    prompt["3"]["inputs"]["sampler_name"] = "dpmpp_3m_sde_gpu"
    graph, report = import_data(prompt, registry, convention="diffusers")
    sampler = graph.nodes["3"].params
    assert (sampler["steps"], sampler["sampler_name"]) == (20, "dpmpp_2m_sde")  # 13 of int(13 / 0.63) = 20
    assert int(sampler["steps"] * sampler["denoise"]) == 13 and "convention" not in sampler
    assert any("'dpmpp_3m_sde_gpu' is not in NodeFlow's diffusers convention" in n for n in report.notes)
    graph.set_param("3", "sampler_name", "euler")  # an edit: values are converted back
    assert export_api(graph)[0]["3"]["inputs"]["steps"] == 13
    graph, _ = import_data(txt2img_api(denoise=0.5, steps=10), registry, convention="diffusers")
    assert (graph.nodes["3"].params["steps"], graph.nodes["3"].params["denoise"]) == (20, 0.5)
    graph.set_param("3", "steps", 30)
    back, _ = export_api(graph)
    inputs = back["3"]["inputs"]
    assert inputs["steps"] == 15 and int(inputs["steps"] / inputs["denoise"]) == 30


@pytest.mark.parametrize("pair", ["img2img", "inpaint", "sdxlturbo", "sdxl_edit_model"])
def test_ui_file_exports_to_the_prompt_saved_with_it(corpus, registry, pair):
    graph = open_workflow(corpus / "ui" / f"examples_{pair}.workflow.json", registry).graph
    expected = json.loads((corpus / "api" / f"examples_{pair}.prompt.json").read_text(encoding="utf-8"))
    exported, problems = export_api(graph)
    mine, theirs = _clean(exported), _clean(expected)
    # UI-file placeholders cannot name their widgets (no class definition); compare their links only
    for node_id, node in theirs.items():
        if graph.registry.get(graph.nodes[node_id].type) is None:
            node["inputs"] = {k: v for k, v in node["inputs"].items() if isinstance(v, list)}
    assert mine == theirs
    assert all("cannot be named" in p for p in problems)


def test_png_prompt_round_trips(corpus, registry):
    with Image.open(corpus / "png" / "lora.png") as image:
        prompt = json.loads(image.text["prompt"])
    graph, report = import_data(prompt, registry)
    assert report.fully_mapped
    assert _clean(export_api(graph)[0]) == _clean(prompt)


def test_ui_features_survive_import(registry):
    graph, report = import_data(ui_workflow(), registry)
    sampler = graph.nodes["3"]
    assert sampler.params["steps"] == 6  # the PrimitiveNode's value, not the widget's stale 20
    assert sampler.ui["seed_control"] == {"seed": "increment"}
    assert sampler.ui["color"] == "#223" and graph.nodes["6"].ui["title"] == "Positive"
    assert graph.nodes["10"].type == "basic.reroute" and graph.nodes["10"].ui["pos"] == [600.0, 300.0]
    assert graph.link_into("3", "latent_image").src == "10" and graph.link_into("10", "value").src == "5"
    assert graph.nodes["12"].type == "basic.note" and graph.nodes["12"].params["text"] == "read me"
    assert [g.title for g in graph.groups.values()] == ["Prompts"]
    assert graph.nodes["4"].ui["size"] == [300.0, 100.0]
    assert {c for _, c, _ in report.dropped} == {"PrimitiveNode"}  # the Reroute is a reroute now
    assert report.fully_mapped
    assert export_api(graph)[0]["3"]["inputs"]["latent_image"] == ["5", 0]  # and exports through it


def test_nodes_without_comfyui_equivalent_are_reported(registry):
    graph, _ = import_data(txt2img_api(), registry)
    extra = graph.add_node("basic.math", {"a": 1})
    show = graph.add_node("basic.show")
    graph.connect(extra.id, "result", show.id, "value")
    _, problems = export_api(graph)
    assert problems == [f"node {extra.id} (Math): no ComfyUI equivalent; not exported",
                        f"node {show.id} (PreviewAny): input 'value' cannot be linked in ComfyUI; left out"]
