"""ComfyUI's official Flux.2 templates (Klein text to image and edit, the 9B KV edit with Flux KV Cache, dev)
import fully mapped and run, in the comfyui convention, on tiny random Flux.2 weights stored as ComfyUI's
files are: the transformer in BFL's key names, the Qwen3 / Mistral 3 text encoder in its checkpoint names,
the VAE in the original names with its batch norm. Every subgraph runs, bypassed ones included."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from ldm_format import _convert_vae
from official_templates import import_template
from safetensors.torch import save_file
from tiny_flux2 import bfl_flux2_state

from nodeflow.engine import Executor

templates = pytest.importorskip("comfyui_workflow_templates_json")


def comfyui_files(folder: Path, out: Path, encoder_class: str, clip_name: str) -> dict[str, tuple[str, Path]]:
    """A tiny Flux.2 pipeline folder as ComfyUI's three files (the tokenizer beside the text encoder)."""
    import transformers
    from diffusers import AutoencoderKLFlux2, Flux2Transformer2DModel

    unet = out / "flux2.safetensors"
    save_file(bfl_flux2_state(Flux2Transformer2DModel.from_pretrained(folder / "transformer").state_dict()), str(unet))
    clip = out / "text_encoders" / clip_name
    clip.parent.mkdir()
    encoder = getattr(transformers, encoder_class).from_pretrained(folder / "text_encoder")
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items() if not k.startswith("lm_head")}, str(clip))
    shutil.copytree(folder / "tokenizer", clip.parent / "tokenizer")
    vae_model = AutoencoderKLFlux2.from_pretrained(folder / "vae")
    vae_state = {k: v for k, v in vae_model.state_dict().items() if not k.startswith("bn.")}
    vae_state = {k.removeprefix("first_stage_model."): v
                 for k, v in _convert_vae(vae_state, dict(vae_model.config)).items()}
    vae_state |= {k: v for k, v in vae_model.state_dict().items() if k.startswith("bn.")}
    vae = out / "flux2-vae.safetensors"
    save_file({k: v.contiguous() for k, v in vae_state.items()}, str(vae))
    return {"UNETLoader": ("unet", unet), "CLIPLoader": ("clip_name", clip), "VAELoader": ("vae", vae)}


@pytest.fixture(scope="module")
def klein_files(tiny_klein8, tmp_path_factory):
    return comfyui_files(tiny_klein8, tmp_path_factory.mktemp("klein_files"), "Qwen3ForCausalLM",
                         "qwen_3_4b.safetensors")


@pytest.fixture(scope="module")
def dev_files(tiny_flux2_dev8, tmp_path_factory):
    return comfyui_files(tiny_flux2_dev8, tmp_path_factory.mktemp("dev_files"), "Mistral3ForConditionalGeneration",
                         "mistral_3_small_flux2_bf16.safetensors")


@pytest.mark.parametrize("kind", ["klein", "dev"])
def test_lone_files_give_the_folders_pixels(kind, request, tmp_path):
    """UNETLoader + CLIPLoader (type flux2) + VAELoader on the three files == the pipeline folder."""
    from flow_graphs import flux_txt2img
    from graphs import add, pixels, run

    folder = request.getfixturevalue("tiny_klein8" if kind == "klein" else "tiny_flux2_dev8")
    files = request.getfixturevalue(f"{kind}_files")
    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(folder, guidance=None if kind == "klein" else 3.5, steps=2, seed=7)
    folder_pixels = pixels(run(executor, graph, tmp_path / "a"), ids["decode"])
    unet = add(graph, "models.load_unet", unet=str(files["UNETLoader"][1]))
    clip = add(graph, "models.load_clip", clip_name=str(files["CLIPLoader"][1]), family="flux2")
    vae = add(graph, "models.load_vae", vae=str(files["VAELoader"][1]))
    graph.connect(unet, "model", ids["sampler"], "model")
    graph.connect(clip, "clip", ids["pos"], "clip")
    graph.connect(vae, "vae", ids["decode"], "vae")
    files_pixels = pixels(run(executor, graph, tmp_path / "b"), ids["decode"])
    assert folder_pixels.std() > 5
    assert (files_pixels == folder_pixels).all()


@pytest.mark.parametrize("name,outputs", [("image_flux2_klein_text_to_image", 2),
                                          ("image_flux2_klein_image_edit_4b_distilled", 2), ("image_flux2", 1),
                                          ("image_flux2_klein_9b_kv_image_edit", 1)])
def test_flux2_templates_run_on_tiny_weights(name, outputs, request, source_png, tmp_path):
    from PIL import Image

    files = request.getfixturevalue("dev_files" if name == "image_flux2" else "klein_files")
    picture = tmp_path / "picture.png"
    Image.open(source_png[0]).resize((64, 64)).save(picture)
    graph, comfy_class = import_template(name)
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        graph.set_mode(node_id, "normal")  # a template may bypass one of its subgraphs: run them all
        if kind in files:
            graph.set_param(node_id, files[kind][0], str(files[kind][1]))
        elif record.type == "image.load":
            graph.set_param(node_id, "image", str(picture))
        elif record.type == "image.scale_to_total_pixels":
            graph.set_param(node_id, "megapixels", 0.01)  # about 100 x 100, the least it takes
        for field in ("width", "height", "value"):
            if isinstance(record.params.get(field), int) and record.params[field] >= 512:
                graph.set_param(node_id, field, 64)
        if "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").glob("*.png"))) == outputs


def test_an_fp8_scaled_transformer_file_samples_like_the_folder(tiny_klein8, tmp_path):
    """ComfyUI's fp8 files (per-tensor scale_weight beside each fp8 weight, BFL's names) stay stored
    in fp8 and compute in float32: the pictures stay within a few levels of the full-precision ones."""
    from diffusers import Flux2Transformer2DModel
    from flow_graphs import flux_txt2img
    from graphs import add, pixels, run
    from test_z_image_files import _fp8_scaled

    unet = tmp_path / "flux-2-klein-4b-fp8.safetensors"
    state = bfl_flux2_state(Flux2Transformer2DModel.from_pretrained(tiny_klein8 / "transformer").state_dict())
    save_file({k: v.contiguous() for k, v in _fp8_scaled(state).items()}, str(unet))
    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(tiny_klein8, guidance=None, steps=2, seed=9)
    full = pixels(run(executor, graph, tmp_path / "a"), ids["decode"]).astype(int)
    graph.connect(add(graph, "models.load_unet", unet=str(unet)), "model", ids["sampler"], "model")
    stored = pixels(run(executor, graph, tmp_path / "b"), ids["decode"]).astype(int)
    assert full.std() > 5
    assert 0 < abs(stored - full).mean() < 3  # quantized: not identical, but close (mean under 3 of 255)
