"""ComfyUI's official LongCat-Image templates (comfyui-workflow-templates-json), text-to-image and
edit, import fully mapped and run, in the comfyui convention, on tiny random LongCat-Image weights
stored as the files they name: the transformer in BFL's names, an fp8-scaled Qwen2.5-VL (with its
vision tower) under CLIPLoader's type longcat_image, and the VAE (its folder: the tiny one is narrower
than Flux's shipped config)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from official_templates import import_template, place_files
from safetensors.torch import save_file

from nodeflow.engine import Executor

templates = pytest.importorskip("comfyui_workflow_templates_json")


def _files(folder: Path, tmp_path: Path, encoder_file: bool = True) -> dict[str, tuple[str, Path]]:
    """The template's loaders' files; `encoder_file` False: the text encoder as its folder (a lone file is
    built from the shipped 7B config, whose picture-token ids are the real tokenizer's, not the tiny one's)."""
    from diffusers import LongCatImageTransformer2DModel
    from test_qwen_image_template import _fp8
    from tiny_longcat import bfl_state
    from transformers import Qwen2_5_VLForConditionalGeneration
    from transformers.core_model_loading import revert_weight_conversion

    unet = tmp_path / "longcat_image_bf16.safetensors"
    transformer = LongCatImageTransformer2DModel.from_pretrained(folder / "transformer")
    save_file({"model.diffusion_model." + k: v for k, v in bfl_state(transformer.state_dict()).items()}, str(unet))
    clip = tmp_path / "text_encoders" / "qwen_2.5_vl_7b_fp8_scaled.safetensors"
    clip.parent.mkdir()
    if not encoder_file:
        return {"UNETLoader": ("unet", unet), "CLIPLoader": ("clip_name", folder / "text_encoder"),
                "VAELoader": ("vae", folder / "vae")}
    encoder = Qwen2_5_VLForConditionalGeneration.from_pretrained(folder / "text_encoder")
    save_file(_fp8(revert_weight_conversion(encoder, encoder.state_dict()), True), str(clip))
    shutil.copytree(folder / "tokenizer", clip.parent / "tokenizer")
    return {"UNETLoader": ("unet", unet), "CLIPLoader": ("clip_name", clip), "VAELoader": ("vae", folder / "vae")}


def _run(name: str, files: dict[str, tuple[str, Path]], tmp_path: Path, picture: Path | None = None) -> None:
    graph, comfy_class = import_template(name)
    place_files(graph, comfy_class, files)
    for node_id, record in graph.nodes.items():
        if record.type == "image.load":
            graph.set_param(node_id, "image", str(picture))
        elif record.type == "image.resolution_selector":
            graph.set_param(node_id, "megapixels", 0.1)
        elif record.type == "image.scale_to_total_pixels":
            graph.set_param(node_id, "megapixels", 0.01)
        elif record.type == "sampling.sampler":
            assert record.params["convention"] == "comfyui"
            graph.set_param(node_id, "steps", 2)
    assert {graph.nodes[n].params.get("family") for n, c in comfy_class.items() if c == "CLIPLoader"} == \
        {"longcat_image"}
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("*.png"))


def test_longcat_text_to_image_template_runs_on_tiny_weights(tiny_longcat8, tmp_path):
    _run("image_longcat_text_to_image", _files(tiny_longcat8, tmp_path), tmp_path)


def test_longcat_image_edit_template_runs_on_tiny_weights(tiny_longcat8, source_png, tmp_path):
    """Text Encode (Qwen-Image Edit) with LongCat's text encoder: the edit pipeline's prompt and reference."""
    _run("image_longcat_image_edit", _files(tiny_longcat8, tmp_path, encoder_file=False), tmp_path, source_png[0])
