"""Imported ComfyUI samplers run in the ComfyUI sampling convention on the built-in model.

A KSampler and the same run split over two KSampler (Advanced) nodes (base + refiner style) must give
identical pictures after import, as they do in ComfyUI for a deterministic sampler.
"""

from __future__ import annotations

import copy

import numpy as np

from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_data
from tests.interop.comfy_graphs import txt2img_api


def _split(prompt: dict) -> dict:
    prompt = copy.deepcopy(prompt)
    common = {"noise_seed": 7, "steps": 4, "cfg": 5.0, "sampler_name": "euler", "scheduler": "karras",
              "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0]}
    prompt["3"] = {"class_type": "KSamplerAdvanced", "inputs": common | {
        "add_noise": "enable", "start_at_step": 0, "end_at_step": 2, "return_with_leftover_noise": "enable",
        "latent_image": ["5", 0]}}
    prompt["13"] = {"class_type": "KSamplerAdvanced", "inputs": common | {
        "add_noise": "disable", "start_at_step": 2, "end_at_step": 10000, "return_with_leftover_noise": "disable",
        "latent_image": ["3", 0]}}
    prompt["8"]["inputs"]["samples"] = ["13", 0]
    return prompt


def _pixels(prompt: dict, registry, tmp_path) -> np.ndarray:
    graph, report = import_data(prompt, registry)
    assert report.fully_mapped, report.lines()
    result = Executor(registry, device="cpu").run(graph, output_dir=tmp_path)
    assert result.ok, result.errors
    return np.asarray(result.values["8"]["image"])


def test_saved_pictures_are_truncated_to_8_bits_as_comfyui_saves_them(registry):
    graph, _ = import_data(txt2img_api(), registry)
    assert graph.nodes["9"].params["eight_bit"] == "truncate"
    graph, _ = import_data(txt2img_api(), registry, convention="diffusers")
    assert graph.nodes["9"].params.get("eight_bit", "round") == "round"


def test_a_split_run_equals_one_ksampler_after_import(registry, tmp_path):
    import torch

    torch.set_num_threads(1)  # two shared cores
    whole = txt2img_api(steps=4)
    whole["3"]["inputs"]["scheduler"] = "karras"
    one = _pixels(whole, registry, tmp_path / "one")
    two = _pixels(_split(whole), registry, tmp_path / "two")
    np.testing.assert_array_equal(one, two)
    assert one.std() > 0.05
