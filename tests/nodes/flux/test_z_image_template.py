"""ComfyUI's official Z-Image Turbo template (comfyui-workflow-templates-json) imports fully mapped and
runs, in the comfyui convention, on tiny random Z-Image weights put in place of the files it names."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import save_file
from test_z_image_files import comfyui_z_image_state

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source

templates = pytest.importorskip("comfyui_workflow_templates_json")


def test_z_image_turbo_template_runs_on_tiny_weights(tiny_z_image8, tmp_path):
    from pathlib import Path

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

    path = Path(templates.__file__).parent / "templates" / "image_z_image_turbo.json"
    graph, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    comfy_class = {m[0]: m[1] for m in report.mapped}
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if kind in files:
            graph.set_param(node_id, files[kind][0], str(files[kind][1]))
        elif record.type == "latent.empty":
            graph.set_param(node_id, "width", 32)
            graph.set_param(node_id, "height", 32)
        elif record.type.startswith("sampling.") and "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("*.png"))
