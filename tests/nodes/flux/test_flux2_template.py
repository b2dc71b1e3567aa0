"""ComfyUI's official Flux.2 Klein text-to-image template imports fully mapped and runs, in the comfyui
convention, on tiny random Flux.2 Klein weights stored as ComfyUI's files are: the transformer in BFL's
key names, the Qwen3 text encoder in its checkpoint names, the VAE in the original names with its
batch norm. Its two subgraphs (base with cfg 5, distilled with cfg 1) both run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from ldm_format import _convert_vae
from safetensors.torch import save_file
from tiny_flux2 import bfl_flux2_state

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source

templates = pytest.importorskip("comfyui_workflow_templates_json")


@pytest.fixture(scope="module")
def klein_files(tiny_klein8, tmp_path_factory):
    """The tiny Klein as ComfyUI's three files (with the tokenizer beside the text encoder)."""
    from diffusers import AutoencoderKLFlux2, Flux2Transformer2DModel
    from transformers import Qwen3ForCausalLM

    folder, out = tiny_klein8, tmp_path_factory.mktemp("klein_files")
    unet = out / "flux-2-klein-4b.safetensors"
    save_file(bfl_flux2_state(Flux2Transformer2DModel.from_pretrained(folder / "transformer").state_dict()), str(unet))
    clip = out / "text_encoders" / "qwen_3_4b.safetensors"
    clip.parent.mkdir()
    encoder = Qwen3ForCausalLM.from_pretrained(folder / "text_encoder")
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


def test_lone_files_give_the_folders_pixels(tiny_klein8, klein_files, tmp_path):
    """UNETLoader + CLIPLoader (type flux2) + VAELoader on the three files == the pipeline folder."""
    from flow_graphs import flux_txt2img
    from graphs import add, pixels, run

    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(tiny_klein8, guidance=None, steps=2, seed=7)
    folder_pixels = pixels(run(executor, graph, tmp_path / "a"), ids["decode"])
    unet = add(graph, "models.load_unet", unet=str(klein_files["UNETLoader"][1]))
    clip = add(graph, "models.load_clip", clip_name=str(klein_files["CLIPLoader"][1]), family="flux2")
    vae = add(graph, "models.load_vae", vae=str(klein_files["VAELoader"][1]))
    graph.connect(unet, "model", ids["sampler"], "model")
    graph.connect(clip, "clip", ids["pos"], "clip")
    graph.connect(vae, "vae", ids["decode"], "vae")
    files_pixels = pixels(run(executor, graph, tmp_path / "b"), ids["decode"])
    assert folder_pixels.std() > 5
    assert (files_pixels == folder_pixels).all()


def test_flux2_klein_template_runs_on_tiny_weights(klein_files, tmp_path):
    path = Path(templates.__file__).parent / "templates" / "image_flux2_klein_text_to_image.json"
    graph, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    comfy_class = {m[0]: m[1] for m in report.mapped}
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        graph.set_mode(node_id, "normal")  # the template bypasses its base model's subgraph: run both
        if kind in klein_files:
            graph.set_param(node_id, klein_files[kind][0], str(klein_files[kind][1]))
        for name in ("width", "height", "value"):
            if record.params.get(name) == 1024:
                graph.set_param(node_id, name, 64)
        if "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").glob("*.png"))) == 2
