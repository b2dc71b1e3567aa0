"""ComfyUI's official Z-Image Turbo template (comfyui-workflow-templates-json) imports fully mapped and
runs, in the comfyui convention, on tiny random Z-Image weights put in place of the files it names."""

from __future__ import annotations

import shutil

import pytest
import torch
from official_templates import import_template, place_files
from safetensors.torch import save_file
from test_z_image_files import comfyui_z_image_state

from nodeflow.engine import Executor

templates = pytest.importorskip("comfyui_workflow_templates_json")


def test_z_image_turbo_template_runs_on_tiny_weights(tiny_z_image8, tmp_path):
    from diffusers import ZImageTransformer2DModel
    from transformers import Qwen3Model

    folder = tiny_z_image8
    unet = tmp_path / "z_image_turbo_bf16.safetensors"
    transformer = ZImageTransformer2DModel.from_pretrained(folder / "transformer")
    save_file({k: v.contiguous() for k, v in comfyui_z_image_state(transformer.state_dict()).items()}, str(unet))
    clip = tmp_path / "text_encoders" / "qwen_3_4b.safetensors"
    clip.parent.mkdir()
    encoder = Qwen3Model.from_pretrained(folder / "text_encoder")
    save_file({"model." + k: v.contiguous() for k, v in encoder.state_dict().items()}, str(clip))
    shutil.copytree(folder / "tokenizer", clip.parent / "tokenizer")
    # the tiny VAE is narrower than Flux's shipped config, so it is given as its folder
    files = {"UNETLoader": ("unet", unet), "CLIPLoader": ("clip_name", clip), "VAELoader": ("vae", folder / "vae")}

    graph, comfy_class = import_template("image_z_image_turbo")
    place_files(graph, comfy_class, files)
    for node_id, record in graph.nodes.items():
        if record.type == "latent.empty":
            graph.set_param(node_id, "width", 32)
            graph.set_param(node_id, "height", 32)
        elif record.type.startswith("sampling.") and "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("*.png"))
