"""Qwen Image 2.1 as ComfyUI's templates load it: the transformer as one file in ComfyUI's names (diffusers'
under model.diffusion_model., the SwiGLU gate and up projections fused into gate_up, gate rows first), the
Qwen3-VL text encoder in its published checkpoint names with its tokenizer beside it (Load CLIP, type
qwen_image: the file's kind picks Qwen Image 2.1 over Qwen-Image) and the RGBA VAE as one file (Load VAE,
which names no family: its four input channels pick 2.1's): together they give the folder's pixels."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from graphs import add, new_graph, pixels, run
from safetensors.torch import save_file

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def tiny21_real(tmp_path_factory, torch_threads):
    from tiny_qwen21 import build_qwen_image21

    return build_qwen_image21(tmp_path_factory.mktemp("tiny_qwen_image21_real"), real=True, seed=1)


@pytest.fixture(scope="module")
def files(tiny21_real, tmp_path_factory):
    from diffusers import AutoencoderKLQwenImage21, QwenImage21Transformer2DModel
    from transformers import Qwen3VLForConditionalGeneration

    out = tmp_path_factory.mktemp("qwen21_files")
    state = QwenImage21Transformer2DModel.from_pretrained(tiny21_real / "transformer").state_dict()
    comfy = {}
    for key, value in state.items():
        if key.endswith("img_mlp.proj.weight"):
            continue
        if key.endswith("img_mlp.gate_layer.weight"):
            key, value = key.replace("gate_layer", "gate_up"), torch.cat([value, state[key.replace("gate_layer",
                                                                                                    "proj")]])
        comfy["model.diffusion_model." + key] = value.contiguous()
    unet = out / "qwen_image_2.1_bf16.safetensors"
    save_file(comfy, str(unet))
    vae = out / "qwen_image_2.1_vae.safetensors"
    save_file({k: v.contiguous() for k, v in AutoencoderKLQwenImage21.from_pretrained(tiny21_real / "vae")
               .state_dict().items()}, str(vae))
    clip = out / "text_encoders" / "qwen3vl_8b_bf16.safetensors"
    clip.parent.mkdir()
    encoder = Qwen3VLForConditionalGeneration.from_pretrained(tiny21_real / "text_encoder")
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(clip))
    shutil.copytree(tiny21_real / "processor", clip.parent / "tokenizer")
    return unet, clip, vae


def _graph(checkpoint):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    text = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    latent = add(g, "latent.empty", width=64, height=64, batch_size=1)
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (text, "conditioning"),
                                          "latent_image": (latent, "latent")},
                  seed=3, steps=2, cfg=1.0, sampler_name="euler", scheduler="normal")
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    return g, {"text": text, "sampler": sampler, "decode": decode}


def test_lone_comfyui_files_give_the_folders_pixels(tiny21_real, files, tmp_path):
    unet, clip, vae = files
    executor = Executor(device="cpu")
    graph, ids = _graph(tiny21_real)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    assert expected.std() > 5
    model = add(graph, "models.load_unet", unet=str(unet))
    text = add(graph, "models.load_clip", clip_name=str(clip), family="qwen_image")
    loaded = add(graph, "models.load_vae", vae=str(vae))
    graph.connect(model, "model", ids["sampler"], "model")
    graph.connect(text, "clip", ids["text"], "clip")
    graph.connect(loaded, "vae", ids["decode"], "vae")
    np.testing.assert_array_equal(pixels(run(executor, graph, tmp_path / "files"), ids["decode"]), expected)
