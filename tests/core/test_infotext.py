"""Saved pictures' parameters text: A1111's format, built from node declarations, read back by the importer."""

from __future__ import annotations

import json
from pathlib import Path

from nodeflow.core import default_registry
from nodeflow.core.infotext import parameters_text
from nodeflow.interop.a1111 import import_parameters, parse

ROOT = Path(__file__).resolve().parents[2]


def _txt2img() -> dict:
    data = json.loads((ROOT / "workflows" / "txt2img.json").read_text())
    data["manifest"] = {"models": {"checkpoints/sd/base, v2.safetensors": "sha256:" + "ab12" * 16}}
    for node in data["nodes"]:
        if node["type"] == "models.load_checkpoint":
            node["params"]["checkpoint"] = "sd/base, v2.safetensors"
        if node["type"] == "sampling.sampler":
            node["params"].update(sampler_name="dpmpp_2m", scheduler="karras", seed=77, cfg=5.5, denoise=1.0)
        if node["type"] == "latent.empty":
            node["params"].update(width=512, height=640)
    return data


def test_a_workflow_writes_a1111s_parameters_text():
    text = parameters_text(_txt2img(), default_registry())
    assert text.splitlines() == [
        "a red circle on a blue background",
        'Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5, Seed: 77, Size: 512x640, Batch size: 4, '
        'Model hash: ab12ab12ab, Model: "base, v2", Version: NodeFlow',
    ]


def test_what_nodeflow_writes_a1111s_importer_reads_back():
    data = _txt2img()
    data["nodes"][2]["params"]["text"] = "ugly, blurry"  # the negative prompt's node
    lora = {"id": "9", "type": "models.load_lora", "version": 1,
            "params": {"lora": "styles/ink.safetensors", "strength_model": 0.7, "strength_clip": 1.0}}
    data["nodes"].append(lora)
    info = parse(parameters_text(data, default_registry()))
    assert info.prompt == "a red circle on a blue background <lora:ink:0.7>" and info.negative == "ugly, blurry"
    graph, _ = import_parameters(parameters_text(data, default_registry()), default_registry())
    sampler = next(r for r in graph.nodes.values() if r.type == "sampling.sampler")
    assert [sampler.params[k] for k in ("seed", "steps", "cfg", "sampler_name", "scheduler")] == \
        [77, 20, 5.5, "dpmpp_2m", "karras"]
    assert next(r for r in graph.nodes.values() if r.type == "models.load_lora").params["strength_model"] == 0.7


def test_a_workflow_without_prompt_or_sampler_writes_nothing():
    data = {"format": "nodeflow-workflow", "version": 1,
            "nodes": [{"id": "1", "type": "basic.int", "version": 1, "params": {"value": 3}}], "links": []}
    assert parameters_text(data, default_registry()) == ""
