"""Values a subgraph instance sets on its own inputs (its `widgets_values`, one per definition
input that feeds an inner widget) reach the inner inputs ComfyUI gives them to, in both import
modes; a plain socket (a switch's branch) gets them through a constant node; a list that fits no
input is a problem, so the template is not called fully mapped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nodeflow.core.subgraphs.expand import expand
from nodeflow.interop.comfyui import import_data, import_source
from nodeflow.interop.comfyui.source import read_source

UUID = "5b1f0c2e-0000-4000-8000-0000000000aa"
PROMPT = "a lighthouse at dusk"


def _input(name: str, link: int | None, widget: bool = True) -> dict[str, Any]:
    return {"name": name, "type": "*", "link": link} | ({"widget": {"name": name}} if widget else {})


def subgraph_ui(values: list[Any], linked_steps: bool = False) -> dict[str, Any]:
    """An instance of a subgraph whose `prompt` feeds a text encoder's widget and a switch's plain
    branch socket, and whose `steps` feeds a KSampler's widget; `clip` is a plain socket input."""
    inner = [
        {"id": 6, "type": "CLIPTextEncode", "mode": 0, "inputs": [_input("clip", 101, False), _input("text", 102)],
         "outputs": [{"name": "CONDITIONING", "type": "CONDITIONING", "links": []}], "widgets_values": ["inner"]},
        {"id": 7, "type": "ComfySwitchNode", "mode": 0,
         "inputs": [_input("on_false", 103, False), _input("on_true", None, False), _input("switch", None)],
         "outputs": [{"name": "output", "type": "*", "links": [106]}], "widgets_values": [False]},
        {"id": 3, "type": "KSampler", "mode": 0, "inputs": [_input("steps", 104)],
         "outputs": [{"name": "LATENT", "type": "LATENT", "links": []}],
         "widgets_values": [7, "fixed", 20, 5.0, "euler", "normal", 1.0]},
    ]
    rows = [(101, -10, 0, 6, 0), (102, -10, 1, 6, 1), (103, -10, 1, 7, 0), (104, -10, 2, 3, 0), (106, 7, 0, -20, 0)]
    definition = {
        "id": UUID, "version": 1, "name": "Prompted", "widgets": [],
        "inputNode": {"id": -10, "bounding": [0, 0, 1, 1]}, "outputNode": {"id": -20, "bounding": [0, 0, 1, 1]},
        "inputs": [{"id": "a", "name": "clip", "type": "CLIP", "linkIds": [101]},
                   {"id": "b", "name": "prompt", "type": "STRING", "linkIds": [102, 103]},
                   {"id": "c", "name": "steps", "type": "INT", "linkIds": [104]}],
        "outputs": [{"id": "o", "name": "text", "type": "*", "linkIds": [106]}],
        "nodes": inner,
        "links": [{"id": i, "origin_id": o, "origin_slot": s, "target_id": t, "target_slot": ts, "type": "*"}
                  for i, o, s, t, ts in rows],
    }
    instance = {"id": 20, "type": UUID, "mode": 0, "widgets_values": values,
                "inputs": [_input("clip", 1, False), _input("prompt", None),
                           _input("steps", 2 if linked_steps else None)],
                "outputs": [{"name": "text", "type": "*", "links": []}]}
    loader = {"id": 4, "type": "CheckpointLoaderSimple", "mode": 0, "inputs": [], "widgets_values": ["tiny"],
              "outputs": [{"name": "MODEL", "links": []}, {"name": "CLIP", "links": [1]}, {"name": "VAE", "links": []}]}
    nodes = [loader, instance]
    links = [[1, 4, 1, 20, 0, "CLIP"]]
    if linked_steps:
        nodes.append({"id": 5, "type": "PrimitiveInt", "mode": 0, "inputs": [], "widgets_values": [9, "fixed"],
                      "outputs": [{"name": "INT", "links": [2]}]})
        links.append([2, 5, 0, 20, 2, "INT"])
    return {"version": 0.4, "nodes": nodes, "links": links, "definitions": {"subgraphs": [definition]}}


def _imported(data: dict[str, Any], registry, flatten: bool):
    graph, report = import_data(json.loads(json.dumps(data)), registry, flatten_subgraphs=flatten)
    expanded, problems = expand(graph)
    assert problems == []
    return expanded, report


@pytest.mark.parametrize("flatten", [True, False], ids=["flattened", "kept"])
def test_the_instance_values_reach_the_inner_widgets_and_the_plain_socket(registry, flatten):
    graph, report = _imported(subgraph_ui([PROMPT, 3]), registry, flatten)
    assert graph.nodes["20:6"].params["text"] == PROMPT
    assert graph.nodes["20:3"].params["steps"] == 3
    constant = graph.nodes["20:in1"]
    assert (constant.type, constant.params["text"]) == ("basic.text", PROMPT)
    into_switch = graph.links[("20:7", "on_false")]
    assert (into_switch.src, into_switch.src_output) == ("20:in1", "text")
    assert report.fully_mapped, report.lines()


@pytest.mark.parametrize("flatten", [True, False], ids=["flattened", "kept"])
def test_a_linked_instance_input_keeps_its_link_over_the_saved_value(registry, flatten):
    graph, _ = _imported(subgraph_ui([PROMPT, 3], linked_steps=True), registry, flatten)
    assert graph.links[("20:3", "steps")].src == "5"
    assert graph.nodes["20:6"].params["text"] == PROMPT


@pytest.mark.parametrize("flatten", [True, False], ids=["flattened", "kept"])
def test_values_that_fit_no_input_are_a_problem_not_a_full_mapping(registry, flatten):
    _, report = _imported(subgraph_ui([PROMPT, 3, "stray"]), registry, flatten)
    assert not report.fully_mapped
    assert any("3 values on the subgraph instance" in line and "node 20" in line for line in report.problems)


def test_the_qwen_image_2_1_template_keeps_its_prompt(registry):
    package = pytest.importorskip("comfyui_workflow_templates_json")
    path = Path(package.__file__).parent / "templates" / "image_qwen_image_2_1_t2i.json"
    if not path.is_file():
        pytest.skip("this version of the templates package lacks image_qwen_image_2_1_t2i")
    data = json.loads(path.read_text(encoding="utf-8"))
    instance = next(n for n in data["nodes"] if n["type"] == data["definitions"]["subgraphs"][0]["id"])
    prompt = instance["widgets_values"][0]
    assert isinstance(prompt, str) and len(prompt) > 100
    for flatten in (True, False):
        graph, report = import_source(read_source(path), registry, flatten_subgraphs=flatten)
        expanded, problems = expand(graph)
        assert problems == []
        texts = {n.params.get("prompt") for n in expanded.nodes.values() if n.type == "conditioning.generate_text"}
        assert texts == {prompt}
        switch = next(i for i, n in expanded.nodes.items() if n.type == "basic.switch")
        source = expanded.links[(switch, "on_false")].src
        assert expanded.nodes[source].params["text"] == prompt


@pytest.mark.parametrize("flatten", [True, False], ids=["flattened", "kept"])
def test_without_saved_values_the_plain_socket_gets_the_shown_inner_widgets_value(registry, flatten):
    graph, report = _imported(subgraph_ui([]), registry, flatten)
    assert graph.nodes["20:6"].params["text"] == "inner"
    assert graph.nodes["20:in1"].params["text"] == "inner"
    assert graph.nodes["20:3"].params["steps"] == 20
    assert report.fully_mapped, report.lines()
