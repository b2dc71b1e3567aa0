"""UI files whose two link records disagree import as ComfyUI runs them (`interop/comfyui/ui_links.py`).

Each quirk is one an official template has (image_qwen_Image_2512, image_flux2_klein_image_edit_9b_distilled,
utility_z_image_turbo_2k_upscaler.app, image_qwen_Image_2512_controlnet), written here small: the value
ComfyUI uses is kept, the leftover is a note, and the file still maps fully, kept or flattened.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nodeflow.interop.comfyui import import_data
from tests.interop.comfy_graphs import ui_workflow

UUID = "5b1f0c2e-0000-4000-8000-00000000aaaa"


def _by_id(data: dict[str, Any], node_id: int) -> dict[str, Any]:
    return next(n for n in data["nodes"] if n["id"] == node_id)


def test_a_second_row_into_an_input_that_names_another_link_is_a_leftover(registry):
    data = ui_workflow()  # KSampler 3's steps input names link 9, from a PrimitiveNode holding 6
    data["nodes"].append({"id": 13, "type": "PrimitiveInt", "pos": [600, 700], "mode": 0,
                          "outputs": [{"name": "INT", "type": "INT", "links": [30]}], "widgets_values": [4, "fixed"]})
    data["links"].append([30, 13, 0, 3, 4, "INT"])  # later in links[]: the old rule let it win
    graph, report = import_data(data, registry)
    assert report.fully_mapped, report.lines()
    assert graph.nodes["3"].params["steps"] == 6 and graph.link_into("3", "steps") is None
    assert ("node 3 (KSampler): input 'steps': link 30 is left over from an edit (the input names link 9, which "
            "ComfyUI uses); dropped") in report.notes


def test_rows_into_a_deleted_node_are_leftovers(registry):
    data = ui_workflow()
    data["links"].append([31, 4, 0, 99, 0, "MODEL"])
    graph, report = import_data(data, registry)
    assert report.fully_mapped, report.lines()
    assert "link 31: goes to node 99, which is not in the file (left over from a deleted node); dropped" in report.notes


def test_an_input_naming_a_link_that_is_missing_stays_a_problem(registry):
    data = ui_workflow()
    _by_id(data, 8)["inputs"][0]["link"] = 77  # names a link links[] lacks, while link 10 goes into it
    graph, report = import_data(data, registry)
    assert not report.fully_mapped
    assert "node 8 (VAEDecode): input 'samples' lists link 77 but links[] has link 10 into it; links[] wins" in \
        report.problems


def _inverting_subgraph(output_rows: list[tuple[int, int]], link_ids: list[int]) -> dict[str, Any]:
    """LoadImage -> a subgraph (its input -> ImageInvert 1; `output_rows` (link id, origin) into its
    output, listed there as `link_ids`) -> SaveImage."""
    rows = [(101, -10, 1, 0)] + [(i, origin, -20, 0) for i, origin in output_rows]
    definition = {
        "id": UUID, "version": 1, "name": "Invert",
        "inputNode": {"id": -10, "bounding": [0, 0, 10, 10]}, "outputNode": {"id": -20, "bounding": [0, 0, 10, 10]},
        "inputs": [{"id": "i0", "name": "image", "type": "IMAGE", "linkIds": [101]}],
        "outputs": [{"id": "o0", "name": "IMAGE", "type": "IMAGE", "linkIds": link_ids}], "widgets": [],
        "nodes": [{"id": 1, "type": "ImageInvert", "pos": [0, 0], "mode": 0,
                   "inputs": [{"name": "image", "type": "IMAGE", "link": 101}],
                   "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [i for i, o in output_rows if o == 1]}]}],
        "links": [{"id": i, "origin_id": o, "origin_slot": 0, "target_id": t, "target_slot": s, "type": "IMAGE"}
                  for i, o, t, s in rows],
    }
    return {"version": 0.4, "definitions": {"subgraphs": [definition]},
            "links": [[1, 2, 0, 3, 0, "IMAGE"], [2, 3, 0, 4, 0, "IMAGE"]],
            "nodes": [{"id": 2, "type": "LoadImage", "pos": [0, 0], "mode": 0,
                       "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
                       "widgets_values": ["in.png", "image"]},
                      {"id": 3, "type": UUID, "pos": [200, 0], "mode": 0,
                       "inputs": [{"name": "image", "type": "IMAGE", "link": 1}],
                       "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [2]}]},
                      {"id": 4, "type": "SaveImage", "pos": [400, 0], "mode": 0,
                       "inputs": [{"name": "images", "type": "IMAGE", "link": 2}], "widgets_values": ["out"]}]}


@pytest.mark.parametrize("flatten", [False, True])
def test_a_subgraph_output_fed_twice_takes_the_first_link_it_lists(registry, flatten):
    twice = _inverting_subgraph([(102, 1), (103, 1)], [102, 103])  # the same output linked twice, as in the upscaler
    graph, report = import_data(copy.deepcopy(twice), registry, flatten_subgraphs=flatten)
    assert report.fully_mapped, report.lines()
    assert any("link 103 is left over from an edit (the input names link 102" in n for n in report.notes)
    # two different sources: ComfyUI takes the first the output lists (here the raw input, not the inverted one)
    rival = _inverting_subgraph([(102, 1), (103, -10)], [103, 102])
    graph, report = import_data(rival, registry, flatten_subgraphs=flatten)
    assert report.fully_mapped, report.lines()
    if flatten:
        assert graph.link_into("4", "images").src == "2"  # straight from LoadImage: the invert is bypassed
    else:
        inner = graph.subgraphs[UUID]
        assert [(link.src, link.src_output) for link in inner.links.values() if link.dst == "@out"] == \
            [("@in", "image")]


def test_a_reroute_socket_saved_with_a_widget_name_keeps_its_link(registry):
    data = ui_workflow()
    _by_id(data, 10)["inputs"][0]["widget"] = {"name": "value"}  # as the 2026 frontend saves some reroutes
    graph, report = import_data(data, registry)
    assert report.fully_mapped, report.lines()
    assert graph.link_into("10", "value").src == "5"


def test_controlnet_apply_advanced_keeps_its_vae_link(registry):
    data = ui_workflow()
    data["nodes"] += [
        {"id": 20, "type": "ControlNetLoader", "pos": [0, 600], "mode": 0,
         "outputs": [{"name": "CONTROL_NET", "type": "CONTROL_NET", "links": [41]}],
         "widgets_values": ["cn.safetensors"]},
        {"id": 21, "type": "LoadImage", "pos": [0, 800], "mode": 0,
         "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [42]}], "widgets_values": ["hint.png", "image"]},
        {"id": 22, "type": "ControlNetApplyAdvanced", "pos": [300, 600], "mode": 0,
         "inputs": [{"name": "positive", "link": 43}, {"name": "negative", "link": 44},
                    {"name": "control_net", "link": 41}, {"name": "image", "link": 42},
                    {"name": "vae", "type": "VAE", "shape": 7, "link": 45}],
         "outputs": [{"name": "positive", "links": []}, {"name": "negative", "links": []}],
         "widgets_values": [0.8, 0.0, 1.0]}]
    data["links"] += [[41, 20, 0, 22, 2, "CONTROL_NET"], [42, 21, 0, 22, 3, "IMAGE"],
                      [43, 6, 0, 22, 0, "CONDITIONING"], [44, 7, 0, 22, 1, "CONDITIONING"], [45, 4, 2, 22, 4, "VAE"]]
    graph, report = import_data(data, registry)
    assert report.fully_mapped, report.lines()
    link = graph.link_into("22", "vae")
    assert (link.src, link.src_output) == ("4", "vae") and graph.nodes["22"].params["strength"] == 0.8
