"""The 30 real ComfyUI files of ../shared/corpus/comfyui: every one imports, pairs agree, core classes map."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.subgraphs.expand import expand
from nodeflow.interop.comfyui import import_data
from nodeflow.interop.comfyui.classmap import entry_for_class
from nodeflow.interop.loading import open_workflow
from tests.interop.conftest import corpus_dir, executable_view

FILES = sorted(p.relative_to(corpus_dir()).as_posix() for p in corpus_dir().rglob("*")
               if p.suffix in (".json", ".png")) if corpus_dir() else []
PAIRS = ("img2img", "inpaint", "sdxlturbo", "sdxl_edit_model")
PNGS = ("img2img_workflow.png", "inpaint_example.png", "lora.png", "sdxlturbo_example.png")


@pytest.mark.parametrize("name", FILES)
def test_every_corpus_file_imports_and_reports(corpus, registry, name):
    opened = open_workflow(corpus / name, registry)
    report = opened.comfyui
    assert report is not None and opened.graph.nodes
    assert opened.messages[0].startswith("imported ComfyUI")
    # every executable ComfyUI node is accounted for exactly once
    accounted = [i for i, _, _ in report.mapped + report.placeholders]
    assert len(accounted) == len(set(accounted))
    for line in report.problems:
        assert re.match(r"(node|link) \S+", line), line


@pytest.mark.parametrize("pair", PAIRS)
def test_ui_and_api_files_of_one_png_give_the_same_graph(corpus, registry, pair):
    ui = open_workflow(corpus / "ui" / f"examples_{pair}.workflow.json", registry).graph
    api = open_workflow(corpus / "api" / f"examples_{pair}.prompt.json", registry).graph
    assert executable_view(ui) == executable_view(api)


@pytest.mark.parametrize("png", PNGS)
def test_a_png_gives_the_same_graph_from_either_chunk(corpus, registry, png):
    with Image.open(corpus / "png" / png) as image:
        prompt = json.loads(image.text["prompt"])
    from_workflow = open_workflow(corpus / "png" / png, registry)
    assert "'workflow' chunk" in from_workflow.messages[0]
    from_prompt, _ = import_data(prompt, registry, "prompt chunk")
    assert executable_view(from_workflow.graph) == executable_view(from_prompt)


def test_every_core_class_of_formats_section_7_maps(corpus, registry):
    text = (corpus / "FORMATS.md").read_text(encoding="utf-8")
    section = text[text.index("## 7."):text.index("## 8.")]
    classes = re.findall(r"^\| (\w+)[ |]", section, re.M)
    frontend_only = {"Reroute", "Note", "PrimitiveNode"}
    core = [c for c in classes if c not in frontend_only and c != "class"]
    assert len(core) >= 35
    unmapped = [c for c in core if entry_for_class(c) is None or registry.get(entry_for_class(c).node) is None]
    assert unmapped == []


def test_frontend_only_nodes_are_resolved(corpus, registry):
    opened = open_workflow(corpus / "ui" / "examples_sdxl_simple.workflow.json", registry)
    report = opened.comfyui
    assert {c for _, c, _ in report.dropped} == {"PrimitiveNode"}
    notes = [r for r in opened.graph.nodes.values() if r.type == "basic.note"]
    assert len(notes) == 9 and all(n.params["text"] for n in notes)
    assert len(opened.graph.groups) == 8
    # PrimitiveNodes' values land in the widgets they drive: both KSamplerAdvanced steps agree
    reroutes = open_workflow(corpus / "ui" / "impactpack_detailer_pipe_test.json", registry)
    assert not any(c == "Reroute" for _, c, _ in reroutes.comfyui.dropped)
    assert sum(r.type == "basic.reroute" for r in reroutes.graph.nodes.values()) == 2  # kept where they stood


def test_modes_layout_and_seed_controls_carry_over(corpus, registry):
    graph = open_workflow(corpus / "ui" / "examples_sdxlturbo.workflow.json", registry).graph
    assert [r.type for r in graph.nodes.values() if r.mode == "muted"] == ["image.save"]
    area = open_workflow(corpus / "ui" / "examples_area_composition_square_area_for_subject.workflow.json",
                         registry).graph
    sampler = next(r for r in area.nodes.values() if r.type == "sampling.sampler")
    assert sampler.ui["seed_control"] == {"seed": "randomize"}  # the pre-2023-04 boolean `true`
    assert sampler.params["seed"] == 830459492315490
    assert all(len(r.ui["pos"]) == 2 for r in area.nodes.values())  # {"0","1"} positions
    bypass = open_workflow(corpus / "ui" / "examples_sdxl_edit_model.workflow.json", registry).graph
    assert bypass.nodes["38"].mode == "bypass" and bypass.nodes["38"].type == "image.scale_to_total_pixels"


def test_subgraphs_stay_subgraphs_and_expand_with_execution_ids(corpus, registry):
    graph = open_workflow(corpus / "ui" / "templates_01_get_started_text_to_image.json", registry).graph
    assert sorted(graph.nodes) == ["60", "83", "84"] and graph.title("83") == "Z-Image-Turbo Text to Image"
    definition = graph.subgraphs["ef10a538-17cf-46fb-930c-5460c4cf7f0e"]
    assert [(w.name, w.node, w.param) for w in definition.widgets] == [
        ("text", "27", "text"), ("height", "13", "height"), ("width", "13", "width"), ("seed", "3", "seed")]
    expanded, problems = expand(graph)
    inner = sorted(i for i in expanded.nodes if ":" in i)
    assert problems == [] and inner and all(i.startswith("83:") for i in inner)
    sampler = expanded.nodes["83:3"]
    assert sampler.type == "sampling.sampler" and sampler.ui.get("seed_control")
    assert any(g.title for g in definition.groups)


def test_unknown_classes_are_placeholders_that_keep_their_data(corpus, registry):
    opened = open_workflow(corpus / "api" / "frontend_api_workflow_with_missing_nodes.json", registry)
    record = next(r for r in opened.graph.nodes.values() if r.type == "NonExistentCustomNode_XYZ_12345")
    assert record.extra["comfyui"]["class_type"] == "NonExistentCustomNode_XYZ_12345"
    assert opened.comfyui.placeholders[0][1] == "NonExistentCustomNode_XYZ_12345"
    assert not opened.comfyui.fully_mapped


def test_a_png_without_workflow_is_one_clear_error(tmp_path, registry):
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    with pytest.raises(WorkflowFormatError, match="carries no workflow"):
        open_workflow(tmp_path / "plain.png", registry)
