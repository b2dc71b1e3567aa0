"""Broken ComfyUI files: one clear line naming the ComfyUI node id and class, never a traceback."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nodeflow.cli import main
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.interop.comfyui import import_data
from nodeflow.interop.loading import open_workflow
from tests.interop.comfy_graphs import txt2img_api, ui_workflow


def _write(tmp_path, data, name="wf.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"a": 1}', "", '{"nodes": 5}'])
def test_a_corrupt_file_is_one_line(tmp_path, registry, text, capsys):
    path = _write(tmp_path, text)
    with pytest.raises(WorkflowFormatError) as caught:
        open_workflow(path, registry)
    assert "\n" not in str(caught.value)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 1


def test_wrong_widget_count_maps_from_the_front_and_says_so(registry):
    data = ui_workflow()
    data["nodes"][3]["widgets_values"] = [64, 64]  # EmptyLatentImage lost batch_size
    data["nodes"][6]["widgets_values"] += ["extra", 3]
    graph, report = import_data(data, registry)
    assert graph.nodes["5"].params["width"] == 64 and "batch_size" not in graph.nodes["5"].params
    lines = " | ".join(report.problems)
    assert "node 3 (KSampler): 9 widget values where the class has 6" in lines
    assert "the last 2 are not carried over" in lines
    older = " | ".join(report.notes)
    assert "node 5 (EmptyLatentImage): 2 widget values where the class has 3" in older
    assert "saved by an older version; batch_size take their defaults" in older
    assert graph.nodes["3"].extra["comfyui"]["widgets_values"][-2:] == ["extra", 3]  # raw list kept
    assert not report.fully_mapped


def test_links_to_missing_nodes_and_slots_are_named(registry):
    data = ui_workflow()
    data["links"].append([20, 99, 0, 8, 0, "LATENT"])  # from a node that is not there
    data["links"].append([21, 4, 0, 9, 5, "MODEL"])  # into a slot SaveImage lacks
    data["links"].append([22, 4, 7, 3, 0, "MODEL"])  # from an output the checkpoint loader lacks
    data["links"] = [link for link in data["links"] if link[0] != 1]
    graph, report = import_data(data, registry)
    lines = " | ".join(report.problems)
    assert "node 8 (VAEDecode): link 20 comes from node 99, which is not in the file; dropped" in lines
    assert "node 9 (SaveImage): link 21 goes to input slot 5, which the node does not have; dropped" in lines
    assert ("node 3 (KSampler): input 'model' links to output slot 7 of node 4 (CheckpointLoaderSimple), which it "
            "does not have; link dropped") in lines
    api = txt2img_api()
    api["8"]["inputs"]["samples"] = ["42", 0]
    _, report = import_data(api, registry)
    assert "node 8 (VAEDecode): input 'samples' links to node 42, which is not in the file; link dropped" in \
        report.problems


def test_inconsistent_link_tables_are_reported(registry):
    data = ui_workflow()
    data["nodes"][7]["inputs"][0]["link"] = 77  # VAEDecode says link 77; links[] has link 10 into it
    data["nodes"][8]["inputs"][0]["link"] = 78
    data["links"] = [link for link in data["links"] if link[0] != 11]  # ...and SaveImage's link is gone
    graph, report = import_data(data, registry)
    lines = " | ".join(report.problems)
    assert "node 8 (VAEDecode): input 'samples' lists link 77 but links[] has link 10 into it; links[] wins" in lines
    assert "node 9 (SaveImage): input 'images' refers to link 78, which links[] lacks; left unconnected" in lines
    assert graph.link_into("8", "latent") is not None and graph.link_into("9", "images") is None


def test_a_subgraph_cycle_is_one_line_and_a_placeholder(registry):
    inner = {"id": "aaaa-1", "name": "Loop", "nodes": [{"id": 1, "type": "aaaa-1", "mode": 0}], "links": [],
             "inputs": [], "outputs": []}
    data = {"version": 0.4, "nodes": [{"id": 5, "type": "aaaa-1", "mode": 0}], "links": [],
            "definitions": {"subgraphs": [inner]}}
    graph, report = import_data(data, registry)
    assert report.problems == ["subgraph 'Loop' contains itself (Loop -> Loop); a subgraph may not be inside itself"]
    assert graph.nodes["5"].type == "subgraph/aaaa-1" and graph.subgraphs["aaaa-1"].nodes["1"].type == "subgraph/aaaa-1"
    graph, report = import_data(data, registry, flatten_subgraphs=True)
    assert report.problems == ["node 5:1 (aaaa-1): subgraph 'Loop' contains itself (aaaa-1 -> aaaa-1); kept as a "
                               "placeholder"]
    assert graph.nodes["5:1"].type == "aaaa-1"


@pytest.mark.parametrize("mutate", [
    lambda d: d["nodes"].append({"type": "KSampler"}),
    lambda d: d["nodes"].append({"id": 50}),
    lambda d: d["nodes"][0].update(widgets_values={"not": "a list"}),
    lambda d: d["nodes"][0].update(inputs="oops"),
    lambda d: d["links"].append([30, 4, "x", 3, None, "MODEL"]),
    lambda d: d["links"].append({"id": 31}),
    lambda d: d.update(groups=[{"bounding": "x"}, 5]),
    lambda d: d.update(definitions={"subgraphs": [5, {"id": None}]}),
    lambda d: d["nodes"][4].update(inputs=[]),
    lambda d: d["nodes"][5].update(widgets_values=[]),
])
def test_odd_shapes_never_raise_anything_but_a_format_error(registry, mutate):
    data = copy.deepcopy(ui_workflow())
    mutate(data)
    try:
        import_data(data, registry)
    except WorkflowFormatError as exc:
        assert "\n" not in str(exc)


def test_model_download_hints_give_the_hash_for_the_missing_model_message(registry):
    from nodeflow.engine.plan import validate

    data = ui_workflow()
    digest = "ab" * 32
    data["nodes"][0]["widgets_values"] = ["sd15/v1-5-pruned-emaonly-fp16.safetensors"]
    data["nodes"][0]["properties"] = {"models": [{"name": "sd15/v1-5-pruned-emaonly-fp16.safetensors", "url": "x",
                                                  "hash": digest.upper(), "hash_type": "SHA256",
                                                  "directory": "checkpoints"}]}
    graph, _ = import_data(data, registry)
    assert graph.manifest["models"] == {"checkpoints/sd15/v1-5-pruned-emaonly-fp16.safetensors": f"sha256:{digest}"}
    problems = [str(p) for p in validate(graph) if p.node_id == "4"]
    assert len(problems) == 1 and f"sha256 {digest}" in problems[0] and "checkpoints" in problems[0]


_SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=4)
_VALUES = st.recursive(_SCALARS,
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                    max_size=3), max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["1", "2", "3", "x"]), st.fixed_dictionaries(
    {"class_type": st.sampled_from(["KSampler", "VAEDecode", "LoadImage", "Nope", "SaveImage"]),
     "inputs": st.dictionaries(st.sampled_from(["seed", "samples", "image", "vae", "images", "denoise"]), _VALUES,
                               max_size=4)}), min_size=1, max_size=4))
def test_random_api_prompts_import_or_fail_in_one_line(prompt):
    from nodeflow.core import default_registry

    try:
        import_data(prompt, default_registry())
    except WorkflowFormatError as exc:
        assert "\n" not in str(exc)


def test_a_malformed_node_is_dropped_in_one_line_and_the_rest_imports(registry):
    data = ui_workflow()
    data["nodes"][7]["outputs"] = 5  # VAEDecode's outputs are not a list
    graph, report = import_data(data, registry)
    line = next(p for p in report.problems if p.startswith("node 8 (VAEDecode): malformed"))
    assert line.endswith("; dropped") and "8" not in graph.nodes
    assert graph.nodes["3"].type == "sampling.sampler"
