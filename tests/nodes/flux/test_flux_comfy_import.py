"""ComfyUI API prompts for Flux, as people send them, imported and run: with --convention diffusers they
give FluxPipeline's pixels; with the comfyui convention they run ComfyUI's flow schedule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, reference_pipe
from graphs import pixels, run

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_data


def _prompt(split: bool, folder, scheduler: str = "simple", sampler: str = "euler") -> dict:
    prompt = {
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red circle", "clip": ["11", 0]}},
        "7": {"class_type": "FluxGuidance", "inputs": {"guidance": 3.5, "conditioning": ["6", 0]}},
        "8": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}},
        "5": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 32, "height": 32, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"seed": 3, "steps": 3, "cfg": 1.0, "sampler_name": sampler,
                                                   "scheduler": scheduler, "denoise": 1.0, "model": ["10", 0],
                                                   "positive": ["7", 0], "negative": ["8", 0],
                                                   "latent_image": ["5", 0]}},
        "9": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["12", 0]}},
        "13": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": "flux"}},
    }
    if split:
        prompt |= {
            "10": {"class_type": "UNETLoader", "inputs": {"unet_name": str(folder / "transformer"),
                                                          "weight_dtype": "default"}},
            "11": {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": str(folder / "text_encoder"),
                                                              "clip_name2": str(folder / "text_encoder_2"),
                                                              "type": "flux", "device": "default"}},
            "12": {"class_type": "VAELoader", "inputs": {"vae_name": str(folder / "vae")}}}
    else:
        prompt["10"] = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": str(folder)}}
        prompt["6"]["inputs"]["clip"] = ["10", 1]
        prompt["9"]["inputs"]["vae"] = ["10", 2]
    return prompt


@pytest.mark.parametrize("split", [False, True])
def test_api_prompt_in_the_diffusers_convention_gives_flux_pipeline_pixels(tiny_flux8, tmp_path, split):
    graph, report = import_data(_prompt(split, tiny_flux8), default_registry(), convention="diffusers")
    assert report.fully_mapped
    result = run(Executor(device="cpu"), graph, tmp_path)
    decode = next(i for i, r in graph.nodes.items() if r.type == "vae.decode")
    pipe = reference_pipe("FluxPipeline", tiny_flux8)
    theirs = as_uint8(pipe("a red circle", height=32, width=32, num_inference_steps=3, guidance_scale=3.5,
                           generator=torch.Generator("cpu").manual_seed(3)).images)
    np.testing.assert_array_equal(pixels(result, decode), theirs)


def test_api_prompt_in_the_comfyui_convention_runs_the_flow_schedule(tiny_flux8, tmp_path):
    graph, report = import_data(_prompt(False, tiny_flux8, "beta"), default_registry())
    assert report.fully_mapped
    result = run(Executor(device="cpu"), graph, tmp_path)
    decode = next(i for i, r in graph.nodes.items() if r.type == "vae.decode")
    assert pixels(result, decode).std() > 5


@pytest.mark.parametrize("sampler", ["euler_ancestral", "dpmpp_2m_sde"])
def test_ancestral_and_sde_samplers_run_on_flux_in_the_comfyui_convention(tiny_flux8, tmp_path, sampler):
    """They re-inject noise the flow way (tests/nodes/test_flow_ksamplers.py has the maths)."""
    graph, report = import_data(_prompt(False, tiny_flux8, "simple", sampler), default_registry())
    assert report.fully_mapped
    result = run(Executor(device="cpu"), graph, tmp_path)
    decode = next(i for i, r in graph.nodes.items() if r.type == "vae.decode")
    assert pixels(result, decode).std() > 5


def test_ddpm_on_flux_is_refused_naming_node_and_field(tiny_flux8, tmp_path):
    graph, _ = import_data(_prompt(False, tiny_flux8, "simple", "ddpm"), default_registry())
    result = Executor(device="cpu").run(graph, output_dir=tmp_path)
    assert not result.ok
    message = str(result.errors)
    assert "sampler 'ddpm' is not available for flow models" in message and "sampler_name" in message
