"""Krea 2 as ComfyUI users hold it: the transformer in its original key names (Load Diffusion Model),
Qwen3-VL in its published checkpoint names (Load CLIP, family krea2, ComfyUI's CLIPLoader type),
each loaded to the pipeline folder's pixels; a krea2 text encoder file that is not Qwen3-VL is one
line naming the node and its field."""

from __future__ import annotations

import shutil

import pytest
import torch
from flow_graphs import flux_txt2img
from graphs import add, pixels, run
from safetensors.torch import save_file
from tiny_krea2 import original_krea2_state

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def krea2_files(tiny_krea2_8, tmp_path_factory):
    from diffusers import Krea2Transformer2DModel
    from transformers import Qwen3VLModel

    out = tmp_path_factory.mktemp("krea2_files")
    unet = out / "krea2_turbo_bf16.safetensors"
    save_file(original_krea2_state(Krea2Transformer2DModel.from_pretrained(tiny_krea2_8 / "transformer").state_dict()),
              str(unet))
    clip = out / "text_encoders" / "qwen3vl_4b.safetensors"
    clip.parent.mkdir()
    encoder = Qwen3VLModel.from_pretrained(tiny_krea2_8 / "text_encoder")
    state = {"model." + k: v.contiguous() for k, v in encoder.state_dict().items()}
    state["lm_head.weight"] = encoder.state_dict()["language_model.embed_tokens.weight"].clone()
    save_file(state, str(clip))
    shutil.copytree(tiny_krea2_8 / "tokenizer", clip.parent / "tokenizer")
    return unet, clip


def test_lone_files_give_the_folders_pixels(tiny_krea2_8, krea2_files, tmp_path):
    unet, clip = krea2_files
    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(tiny_krea2_8, guidance=None, size=64, steps=2, seed=3)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    model = add(graph, "models.load_unet", unet=str(unet))
    text = add(graph, "models.load_clip", clip_name=str(clip), family="krea2")
    vae = add(graph, "models.load_vae", vae=str(tiny_krea2_8 / "vae"))
    graph.connect(model, "model", ids["sampler"], "model")
    graph.connect(text, "clip", ids["pos"], "clip")
    graph.connect(vae, "vae", ids["decode"], "vae")
    got = pixels(run(executor, graph, tmp_path / "files"), ids["decode"])
    assert expected.std() > 5
    assert (got == expected).all()


def test_a_krea2_text_encoder_that_is_not_qwen3_vl_is_one_line(tiny_krea2_8, tmp_path):
    from tiny_flow import qwen3_encoder

    clip = tmp_path / "qwen_3_4b.safetensors"
    save_file({"model." + k: v.contiguous() for k, v in qwen3_encoder().state_dict().items()}, str(clip))
    graph, ids = flux_txt2img(tiny_krea2_8, guidance=None, size=64, steps=1)
    text = add(graph, "models.load_clip", clip_name=str(clip), family="krea2")
    graph.connect(text, "clip", ids["pos"], "clip")
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    message = result.errors[text]
    assert not result.ok and "\n" not in message
    assert "clip_name" in message and "Krea 2" in message and "qwen3vl_4b" in message, message
