"""ComfyUI's official HiDream-I1 templates (comfyui-workflow-templates-json: Full, Dev, Fast) import fully
mapped and run, in the comfyui convention, on tiny random HiDream-I1 weights stored as the files they name:
the transformer under model.diffusion_model., and QuadrupleCLIPLoader's CLIP-L, CLIP-G, T5 and Llama files
(each with its tokenizer beside it: no Llama vocabulary ships with NodeFlow); the VAE as its folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from official_templates import import_template
from safetensors.torch import save_file

from nodeflow.engine import Executor

pytest.importorskip("comfyui_workflow_templates_json")


def _save(module, path: Path, prefix: str = "") -> Path:
    save_file({prefix + k: v.clone().contiguous() for k, v in module.state_dict().items()}, str(path))
    return path


@pytest.fixture(scope="module")
def files(tiny_hidream8, tmp_path_factory) -> dict[str, Path]:
    """The template's file names -> tiny files with the same parts (CLIP-L and CLIP-G told apart by width)."""
    from diffusers import HiDreamImageTransformer2DModel
    from transformers import CLIPTextModelWithProjection, LlamaForCausalLM, T5EncoderModel

    folder, out = tiny_hidream8, tmp_path_factory.mktemp("hidream_files")
    found = {}
    for stem, part, cls in (("clip_l_hidream", "text_encoder", CLIPTextModelWithProjection),
                            ("clip_g_hidream", "text_encoder_2", CLIPTextModelWithProjection),
                            ("t5xxl_fp8_e4m3fn_scaled", "text_encoder_3", T5EncoderModel),
                            ("llama_3.1_8b_instruct_fp8_scaled", "text_encoder_4", LlamaForCausalLM)):
        found[f"{stem}.safetensors"] = _save(cls.from_pretrained(folder / part), out / f"{stem}.safetensors")
        tokenizer = part.replace("text_encoder", "tokenizer")
        beside = f"{stem}.tokenizer" if part == "text_encoder_4" else f"{stem}.{tokenizer}"
        shutil.copytree(folder / tokenizer, out / beside)
    transformer = HiDreamImageTransformer2DModel.from_pretrained(folder / "transformer")
    _save(transformer, out / "transformer.safetensors", "model.diffusion_model.")
    for kind in ("dev", "fast", "full"):
        found[f"hidream_i1_{kind}_fp8.safetensors"] = out / "transformer.safetensors"
    return found


def _place_models(graph, files: dict[str, Path], tiny_hidream8: Path) -> None:
    """QuadrupleCLIPLoader's four files, the transformer and the VAE folder in place of what the template names."""
    for node_id, record in graph.nodes.items():
        if record.type == "models.load_clip":
            assert record.params["family"] == "hidream"
            for field in ("clip_name", "clip_name_2", "clip_name_3", "clip_name_4"):
                graph.set_param(node_id, field, str(files[record.params[field]]))
        elif record.type == "models.load_unet":
            graph.set_param(node_id, "unet", str(files["hidream_i1_dev_fp8.safetensors"]))
        elif record.type == "models.load_vae":
            graph.set_param(node_id, "vae", str(tiny_hidream8 / "vae"))


def _set_by_type(graph, params: dict[str, dict], comfyui_steps_on: str) -> None:
    """Shrink a template for tiny weights: each node of a listed type gets those parameters; the node
    that holds the steps must keep ComfyUI's step convention from the import."""
    for node_id, record in graph.nodes.items():
        if record.type == comfyui_steps_on:
            assert record.params["convention"] == "comfyui"
        for name, value in params.get(record.type, {}).items():
            graph.set_param(node_id, name, value)


def _run(graph, tmp_path: Path) -> None:
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("*.png"))


@pytest.mark.parametrize("name", ["hidream_i1_dev", "hidream_i1_fast", "hidream_i1_full"])
def test_hidream_i1_template_runs_on_tiny_weights(name, files, tiny_hidream8, tmp_path):
    graph, _ = import_template(name)
    _place_models(graph, files, tiny_hidream8)
    _set_by_type(graph, {"latent.empty": {"width": 64, "height": 64}, "sampling.sampler": {"steps": 2}},
                 comfyui_steps_on="sampling.sampler")
    _run(graph, tmp_path)


@pytest.mark.parametrize("name", ["hidream_e1_1", "hidream_e1_full"])
def test_hidream_e1_template_runs_on_tiny_weights(name, files, tiny_hidream8, tmp_path):
    """HiDream-E1's editing templates (Dual CFG Guider over Instruct Pix To Pix Conditioning's prompts, the edit
    picture joined to the latents) run on the same tiny transformer, pictures made small (96 x 96)."""
    from PIL import Image

    picture = tmp_path / "input.png"
    Image.new("RGB", (120, 96), (200, 40, 40)).save(picture)
    graph, _ = import_template(name)
    kinds = {record.type for record in graph.nodes.values()}
    assert {"sampling.dual_cfg_guider", "conditioning.control_picture", "sampling.sample"} <= kinds
    _place_models(graph, files, tiny_hidream8)
    _set_by_type(graph, {"image.load": {"image": str(picture)},
                         "image.scale_to_total_pixels": {"megapixels": 0.01, "resolution_steps": 16},
                         "image.scale": {"width": 96, "height": 96},
                         "sampling.scheduler": {"steps": 2}},
                 comfyui_steps_on="sampling.scheduler")
    _run(graph, tmp_path)
