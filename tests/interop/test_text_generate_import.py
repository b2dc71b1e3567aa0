"""TextGenerate's saved widgets, named from ComfyUI's definition (comfy_extras/nodes_textgen.py):
prompt, max_length, sampling_mode and, with it "on", temperature, top_k, top_p, min_p,
repetition_penalty, seed, presence_penalty; then thinking, use_default_template and (newer files) mtp."""

from __future__ import annotations

import json
from pathlib import Path

import comfyui_workflow_templates_json as templates

from nodeflow.core import default_registry
from nodeflow.interop.comfyui import import_data

from .test_comfyui_vocabulary import _node

TWELVE = ["expand this", 256, "on", 0.7, 64, 0.95, 0.05, 1.05, 9, 0.5, True, False]


def imported(values):
    data = {"version": 0.4, "nodes": [_node(1, "TextGenerate", values, inputs=[("clip", "CLIP", None, False)],
                                            outputs=[("generated_text", "STRING", [])])], "links": []}
    graph, report = import_data(data, default_registry())
    return graph.nodes["1"], report


def test_every_saved_value_is_named_as_comfyui_names_it():
    node, report = imported(TWELVE)
    assert node.type == "conditioning.generate_text" and not report.problems, report.lines()
    assert node.params == {"prompt": "expand this", "max_length": 256, "sampling_mode": "on", "temperature": 0.7,
                           "top_k": 64, "top_p": 0.95, "min_p": 0.05, "repetition_penalty": 1.05, "seed": 9,
                           "presence_penalty": 0.5, "thinking": True, "use_default_template": False}


def test_sampling_off_saves_no_sampling_values_and_older_files_take_defaults():
    node, report = imported(["greedy", 128, "off", True, True])
    assert node.params == {"prompt": "greedy", "max_length": 128, "sampling_mode": "off", "thinking": True,
                           "use_default_template": True} and not report.problems
    node, report = imported(TWELVE[:9])  # saved before presence_penalty, thinking, use_default_template
    assert "presence_penalty" not in node.params and not report.problems
    assert any("older version" in line and "thinking" in line for line in report.lines())


def test_the_thirteenth_value_is_mtp_a_speed_choice_and_a_further_one_is_reported_not_guessed():
    """Newer files save `mtp` ("auto", "off" or a count: multi-token prediction, how many tokens ComfyUI
    decodes a step, the name `clip.generate` takes it by); NodeFlow decodes one a step and says so."""
    node, report = imported([*TWELVE, "auto"])
    assert node.params["use_default_template"] is False and "mtp" not in node.params and not report.problems
    assert any("mtp" in line for line in report.lines())
    node, report = imported([*TWELVE, "off"])
    assert not report.problems and not any("mtp" in line for line in report.lines())
    node, report = imported([*TWELVE, "off", "later"])
    assert any("the last 1 are not carried over" in line for line in report.problems)


def test_the_qwen3_text_generation_template_imports_its_node():
    path = Path(templates.__file__).parent / "templates" / "llm_qwen3_text_gen.json"
    graph, _ = import_data(json.loads(path.read_text()), default_registry())
    node = next(n for n in graph.nodes.values() if n.type == "conditioning.generate_text")
    assert node.params["max_length"] == 2048 and node.params["sampling_mode"] == "on"
