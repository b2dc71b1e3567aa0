"""Krea 2 as ComfyUI users hold it: the transformer in its original key names (Load Diffusion Model),
Qwen3-VL in its published checkpoint names (Load CLIP, family krea2, ComfyUI's CLIPLoader type),
each loaded to the pipeline folder's pixels; the int8 ConvRot transformer and the fp8-scaled Qwen3-VL
the templates name sample within a few levels of them; a krea2 text encoder file that is not Qwen3-VL
is one line naming the node and its field."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from flow_graphs import flux_txt2img, split_files_pixels
from graphs import add, pixels, run
from safetensors.torch import save_file
from tiny_krea2 import original_krea2_state

from nodeflow.engine import Executor


def comfyui_files(folder: Path, out: Path) -> tuple[Path, Path]:
    """A tiny Krea 2 pipeline folder's transformer and text encoder as ComfyUI's files (the tokenizer
    beside the text encoder; the published checkpoint names keep the tied LM head)."""
    from diffusers import Krea2Transformer2DModel
    from transformers import Qwen3VLModel

    unet = out / "krea2_turbo_bf16.safetensors"
    save_file(original_krea2_state(Krea2Transformer2DModel.from_pretrained(folder / "transformer").state_dict()),
              str(unet))
    clip = out / "text_encoders" / "qwen3vl_4b.safetensors"
    clip.parent.mkdir()
    encoder = Qwen3VLModel.from_pretrained(folder / "text_encoder")
    state = {"model." + k: v.contiguous() for k, v in encoder.state_dict().items()}
    state["lm_head.weight"] = encoder.state_dict()["language_model.embed_tokens.weight"].clone()
    save_file(state, str(clip))
    shutil.copytree(folder / "tokenizer", clip.parent / "tokenizer")
    return unet, clip


def convrot_file(unet: Path, out: Path) -> Path:
    """The transformer file with its blocks' linear layers as ComfyUI's ConvRot int8 (16-wide groups:
    the tiny layers are 64 and 128 wide), as krea2_turbo_int8_convrot keeps them."""
    from safetensors.torch import load_file
    from test_convrot import convrot_state

    state = load_file(str(unet))
    blocks = {k: v for k, v in state.items() if k.startswith("model.diffusion_model.blocks.") and v.dim() == 2}
    path = out / "krea2_turbo_int8_convrot.safetensors"
    save_file(state | convrot_state(blocks, 16), str(path))
    return path


@pytest.fixture(scope="module")
def krea2_files(tiny_krea2_8, tmp_path_factory):
    return comfyui_files(tiny_krea2_8, tmp_path_factory.mktemp("krea2_files"))


def test_lone_files_give_the_folders_pixels(tiny_krea2_8, krea2_files, tmp_path):
    unet, clip = krea2_files
    expected, got = split_files_pixels(tiny_krea2_8, unet, clip, "krea2", tmp_path, size=64, steps=2, seed=3)
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


def test_an_int8_convrot_transformer_file_samples_like_the_folder(tiny_krea2_8, krea2_files, tmp_path):
    """The int8 templates' transformer: its blocks' linear layers stored rotated, int8 per row."""
    path = convrot_file(krea2_files[0], tmp_path)
    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(tiny_krea2_8, guidance=None, size=64, steps=2, seed=3)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    model = add(graph, "models.load_unet", unet=str(path))
    graph.connect(model, "model", ids["sampler"], "model")
    got = pixels(run(executor, graph, tmp_path / "int8"), ids["decode"])
    difference = np.abs(got.astype(int) - expected.astype(int))
    assert difference.mean() < 2 and difference.max() < 16  # int8 per-row weights
    assert not np.array_equal(got, expected)  # the int8 file's own weights ran


def test_an_fp8_scaled_qwen3_vl_file_encodes_like_the_folder(tiny_krea2_8, krea2_files, tmp_path):
    """The templates' text encoder (qwen3vl_4b_fp8_scaled): its language model's linear weights in
    e4m3 with a per-tensor scale, ComfyUI's `scaled_fp8` marker beside them."""
    from safetensors.torch import load_file

    state = load_file(str(krea2_files[1]))
    for key in [k for k in state if ".language_model.layers." in k and k.endswith("proj.weight")]:
        scale = state[key].abs().max() / 448.0
        state[key] = (state[key] / scale).to(torch.float8_e4m3fn)
        state[key[: -len("weight")] + "scale_weight"] = scale.reshape(())
    state["scaled_fp8"] = torch.empty(0, dtype=torch.float8_e4m3fn)
    path = tmp_path / "text_encoders" / "qwen3vl_4b_fp8_scaled.safetensors"
    path.parent.mkdir()
    save_file(state, str(path))
    shutil.copytree(krea2_files[1].parent / "tokenizer", path.parent / "tokenizer")
    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(tiny_krea2_8, guidance=None, size=64, steps=2, seed=3)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    text = add(graph, "models.load_clip", clip_name=str(path), family="krea2")
    graph.connect(text, "clip", ids["pos"], "clip")
    got = pixels(run(executor, graph, tmp_path / "fp8"), ids["decode"])
    difference = np.abs(got.astype(int) - expected.astype(int))
    assert difference.mean() < 1 and difference.max() < 8  # e4m3 rounding (measured: mean 0.03, max 1)
    assert not np.array_equal(got, expected)  # the file's own weights ran, not the folder's
