"""ComfyUI subgraphs import as NodeFlow subgraphs: expanded, they are the graph the flattening import
gives (ids `<instance>:<inner>`), they run to the same pixels, and export gives ComfyUI's ids."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nodeflow.core import workflow
from nodeflow.core.context import ModelStore
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.subgraphs.expand import expand
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import export_api, import_data, import_source
from nodeflow.interop.comfyui.source import read_source
from nodeflow.interop.comfyui.ui_subgraphs import definitions_of
from tests.interop.conftest import executable_view

UUID = "5b1f0c2e-0000-4000-8000-000000000001"
MODELS = ModelStore()


def _node(node_id: int, kind: str, inputs: list[tuple[str, Any]] = (), outputs: list[tuple[str, list]] = (),
          widgets: list[Any] | None = None, **more: Any) -> dict[str, Any]:
    node = {"id": node_id, "type": kind, "pos": [node_id * 10, 0], "mode": 0,
            "inputs": [{"name": n, "type": "*", "link": link} for n, link in inputs],
            "outputs": [{"name": n, "type": "*", "links": links} for n, links in outputs]}
    if widgets is not None:
        node["widgets_values"] = widgets
    return node | more


def subgraphed_ui(instance_inputs: tuple[str, ...] = ("model", "clip", "vae", "latent")) -> dict[str, Any]:
    """Checkpoint + empty latent outside; prompts, KSampler and decode inside a subgraph used twice."""
    proxies = {"properties": {"proxyWidgets": [["3", "seed"], ["3", "control_after_generate"], ["6", "text"]]}}
    slots = {name: i for i, name in enumerate(instance_inputs)}
    feeds = {"model": (0, 1), "clip": (1, 2), "vae": (2, 3), "latent": (0, 4)}

    def instance(node_id: int, first_link: int, out_link: int) -> dict[str, Any]:
        return _node(node_id, UUID, [(n, first_link + slots[n]) for n in instance_inputs],
                     [("IMAGE", [out_link])], [], **proxies)

    links = []
    for base, target in ((1, 20), (5, 21)):
        for name in instance_inputs:
            source = 5 if name == "latent" else 4
            links.append([base + slots[name], source, feeds[name][0], target, slots[name], "*"])
    links += [[9, 20, 0, 9, 0, "IMAGE"], [10, 21, 0, 10, 0, "IMAGE"]]
    definition = {
        "id": UUID, "version": 1, "name": "Prompt, Sample, Decode",
        "inputNode": {"id": -10, "bounding": [0, 0, 10, 10]}, "outputNode": {"id": -20, "bounding": [0, 0, 10, 10]},
        "inputs": [{"id": f"i{k}", "name": n, "type": t, "linkIds": []}
                   for k, (n, t) in enumerate([("model", "MODEL"), ("clip", "CLIP"), ("vae", "VAE"),
                                               ("latent", "LATENT")])],
        "outputs": [{"id": "o0", "name": "IMAGE", "type": "IMAGE", "linkIds": [109]}],
        "widgets": [],
        "nodes": [
            _node(6, "CLIPTextEncode", [("clip", 101)], [("CONDITIONING", [104])],
                  ["a red circle on a blue background"]),
            _node(7, "CLIPTextEncode", [("clip", 102)], [("CONDITIONING", [105])], [""]),
            _node(3, "KSampler", [("model", 103), ("positive", 104), ("negative", 105), ("latent_image", 106)],
                  [("LATENT", [107])], [7, "fixed", 2, 5.0, "euler", "normal", 1.0]),
            _node(8, "VAEDecode", [("samples", 107), ("vae", 108)], [("IMAGE", [109])]),
        ],
        "links": [{"id": i, "origin_id": o, "origin_slot": os, "target_id": t, "target_slot": ts, "type": "*"}
                  for i, o, os, t, ts in [(101, -10, 1, 6, 0), (102, -10, 1, 7, 0), (103, -10, 0, 3, 0),
                                          (104, 6, 0, 3, 1), (105, 7, 0, 3, 2), (106, -10, 3, 3, 3),
                                          (107, 3, 0, 8, 0), (108, -10, 2, 8, 1), (109, 8, 0, -20, 0)]],
        "groups": [{"id": 1, "title": "Inside", "bounding": [0, 0, 400, 300]}],
    }
    return {"version": 0.4, "last_node_id": 21, "last_link_id": 10, "links": links,
            "nodes": [_node(4, "CheckpointLoaderSimple", [], [("MODEL", [1, 5]), ("CLIP", [2, 6]), ("VAE", [3, 7])],
                            ["tiny-shapes"]),
                      _node(5, "EmptyLatentImage", [], [("LATENT", [4, 8])], [64, 64, 1]),
                      instance(20, 1, 9), instance(21, 5, 10),
                      _node(9, "SaveImage", [("images", 9)], [], ["left"]),
                      _node(10, "SaveImage", [("images", 10)], [], ["right"])],
            "definitions": {"subgraphs": [definition]}}


def test_a_subgraph_imports_as_a_definition_with_two_linked_instances(registry):
    graph, report = import_data(subgraphed_ui(), registry)
    assert report.fully_mapped, report.lines()
    assert sorted(graph.nodes) == ["10", "20", "21", "4", "5", "9"]
    assert graph.nodes["20"].type == graph.nodes["21"].type == f"subgraph/{UUID}"
    definition = graph.subgraphs[UUID]
    assert [s.name for s in definition.inputs] == ["model", "clip", "vae", "latent"]
    assert [(w.name, w.node, w.param) for w in definition.widgets] == [("seed", "3", "seed"), ("text", "6", "text")]
    assert graph.link_into("20", "latent").src == "5" and graph.link_into("9", "images").src_output == "IMAGE"
    assert [g.title for g in definition.groups] == ["Inside"]
    text = workflow.dumps(graph)
    assert workflow.dumps(workflow.loads(text, registry)[0]) == text


def test_expanded_it_is_the_flattened_import_and_exports_comfyuis_ids(registry):
    kept, _ = import_data(subgraphed_ui(), registry)
    flat, _ = import_data(subgraphed_ui(), registry, flatten_subgraphs=True)
    expanded, problems = expand(kept)
    assert problems == [] and executable_view(expanded) == executable_view(flat)
    prompt, lost = export_api(kept)
    assert lost == [] and prompt == export_api(flat)[0]
    assert prompt["20:3"]["inputs"]["positive"] == ["20:6", 0] and prompt["21:8"]["inputs"]["vae"] == ["4", 2]


def test_instance_inputs_are_matched_to_the_definition_by_name_not_slot(registry):
    data = subgraphed_ui(instance_inputs=("latent", "vae", "model", "clip"))
    for flatten in (False, True):
        graph, _ = import_data(copy.deepcopy(data), registry, flatten_subgraphs=flatten)
        flat = expand(graph)[0]
        assert flat.link_into("20:3", "latent_image").src == "5" and flat.link_into("20:3", "model").src == "4"


def test_it_runs_to_the_flattened_pixels_and_the_twin_instance_is_served_from_cache(registry, tmp_path):
    kept, _ = import_data(subgraphed_ui(), registry)
    flat, _ = import_data(subgraphed_ui(), registry, flatten_subgraphs=True)
    ran = Executor(registry, device="cpu", models=MODELS).run(kept, output_dir=tmp_path / "a")
    reference = Executor(registry, device="cpu", models=MODELS).run(flat, output_dir=tmp_path / "b")
    assert ran.ok and reference.ok, (ran.errors, reference.errors)
    for node_id in ("20:8", "21:8"):
        assert np.array_equal(np.asarray(ran.values[node_id]["image"]), np.asarray(reference.values[node_id]["image"]))
    assert {"21:3", "21:8"} <= set(ran.cached) and "20:3" in ran.executed


templates = pytest.importorskip("comfyui_workflow_templates_json")
FOLDER = Path(templates.__file__).parent / "templates"


def test_official_templates_with_subgraphs_keep_their_top_level_and_expand_to_the_flattened_graph(registry):
    checked = 0
    for path in sorted(FOLDER.glob("*.json")):
        try:
            source = read_source(path)
        except WorkflowFormatError:
            continue
        if source.kind != "ui" or not definitions_of(source.data):
            continue
        graph, _ = import_source(source, registry)
        shown = [n for n in source.data["nodes"] if n.get("type") != "PrimitiveNode"]  # Reroutes stay reroutes
        assert len(graph.nodes) == len(shown), path.name
        expanded, problems = expand(graph)
        flat, _ = import_source(source, registry, flatten_subgraphs=True)
        assert problems == [] and executable_view(expanded) == executable_view(flat), path.name
        text = workflow.dumps(graph)
        assert workflow.dumps(workflow.loads(text, registry)[0]) == text, path.name
        checked += 1
    assert checked >= 214


def test_convert_keeps_subgraphs_or_flattens_them_and_exports_comfyuis_ids(tmp_path, capsys):
    import json

    from nodeflow.cli import main

    source = tmp_path / "ui.json"
    source.write_text(json.dumps(subgraphed_ui()), encoding="utf-8")
    assert main(["convert", str(source), str(tmp_path / "kept.json")]) == 0
    kept = json.loads((tmp_path / "kept.json").read_text())
    assert [s["id"] for s in kept["subgraphs"]] == [UUID] and "20" in {n["id"] for n in kept["nodes"]}
    assert main(["convert", "--flatten-subgraphs", str(source), str(tmp_path / "flat.json")]) == 0
    flat = json.loads((tmp_path / "flat.json").read_text())
    assert "subgraphs" not in flat and "20:3" in {n["id"] for n in flat["nodes"]}
    assert main(["convert", "--to", "comfyui-api", str(tmp_path / "kept.json"), str(tmp_path / "api.json")]) == 0
    api = json.loads((tmp_path / "api.json").read_text())
    assert api["20:3"]["class_type"] == "KSampler" and api["20:8"]["inputs"]["samples"] == ["20:3", 0]
