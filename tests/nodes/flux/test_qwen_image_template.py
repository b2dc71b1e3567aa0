"""ComfyUI's official Qwen-Image template (comfyui-workflow-templates-json) imports fully mapped and
runs, in the comfyui convention, on tiny random Qwen-Image weights stored as the files it names are:
an fp8 transformer, an fp8-scaled Qwen2.5-VL (with its vision tower) and the video VAE."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from official_templates import import_template, place_files
from safetensors.torch import save_file

from nodeflow.engine import Executor

templates = pytest.importorskip("comfyui_workflow_templates_json")


def _fp8(state: dict[str, torch.Tensor], scaled: bool) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        if key.endswith(".weight") and value.dim() == 2 and value.shape[1] % 16 == 0:
            scale = value.abs().max() / 448.0 if scaled else torch.tensor(1.0)
            out[key] = (value / scale).to(torch.float8_e4m3fn).contiguous()
            if scaled:
                out[key[: -len("weight")] + "scale_weight"] = scale.reshape(())
        else:
            out[key] = value.to(torch.bfloat16).contiguous()
    return out


def comfyui_files(folder: Path, tmp_path: Path) -> dict[str, tuple[str, Path]]:
    """The tiny Qwen-Image pipeline folder as the files ComfyUI's Qwen-Image templates name, for
    `official_templates.place_files`: the transformer in fp8, Qwen2.5-VL fp8 scaled (its tokenizer
    beside it) and the VAE."""
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLForConditionalGeneration
    from transformers.core_model_loading import revert_weight_conversion

    unet = tmp_path / "qwen_image_fp8_e4m3fn.safetensors"
    transformer = QwenImageTransformer2DModel.from_pretrained(folder / "transformer")
    save_file(_fp8({"model.diffusion_model." + k: v for k, v in transformer.state_dict().items()}, False), str(unet))
    clip = tmp_path / "text_encoders" / "qwen_2.5_vl_7b_fp8_scaled.safetensors"
    clip.parent.mkdir()
    encoder = Qwen2_5_VLForConditionalGeneration.from_pretrained(folder / "text_encoder")
    save_file(_fp8(revert_weight_conversion(encoder, encoder.state_dict()), True), str(clip))
    shutil.copytree(folder / "tokenizer", clip.parent / "tokenizer")
    vae = tmp_path / "qwen_image_vae.safetensors"
    save_file({k: v.contiguous() for k, v in AutoencoderKLQwenImage.from_pretrained(folder / "vae").state_dict()
               .items()}, str(vae))
    return {"UNETLoader": ("unet", unet), "CLIPLoader": ("clip_name", clip), "VAELoader": ("vae", vae)}


def test_qwen_image_template_runs_on_tiny_weights(tiny_qwen_image8, tmp_path):

    files = comfyui_files(tiny_qwen_image8, tmp_path)

    graph, comfy_class = import_template("image_qwen_image")
    place_files(graph, comfy_class, files)
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if record.type == "latent.empty":
            graph.set_param(node_id, "width", 32)
            graph.set_param(node_id, "height", 32)
        elif kind == "PrimitiveInt":
            graph.set_param(node_id, "value", 2)  # the steps the switches choose between
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("*.png"))


def test_diffsynth_controlnet_patch_template_runs_on_tiny_weights(tiny_qwen_image8, source_png, tmp_path):
    """image_qwen_image_controlnet_patch (ModelPatchLoader with qwen_image_canny_diffsynth_controlnet and
    QwenImageDiffsynthControlnet) imports fully mapped and runs on tiny files put in place of the ones it names;
    the picture is scaled to 0.01 MP instead of 1.68."""
    from test_qwen_image_control import blockwise_state

    patch = tmp_path / "model_patches" / "qwen_image_canny_diffsynth_controlnet.safetensors"
    patch.parent.mkdir()
    save_file(blockwise_state(128, 1), str(patch))
    files = {**comfyui_files(tiny_qwen_image8, tmp_path), "ModelPatchLoader": ("name", patch),
             "LoadImage": ("image", source_png[0])}

    graph, comfy_class = import_template("image_qwen_image_controlnet_patch")
    place_files(graph, comfy_class, files)
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if kind == "ImageScaleToTotalPixels":
            graph.set_param(node_id, "megapixels", 0.01)
            graph.set_param(node_id, "resolution_steps", 16)
        elif record.type.startswith("sampling.") and "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("*.png"))
