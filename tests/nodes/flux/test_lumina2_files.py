"""Lumina 2 as ComfyUI users hold it: a transformer file in the original key names (fused qkv), Gemma 2
in its checkpoint names (CLIPLoader type lumina2, which Z-Image's Qwen3 shares: the file's keys pick
the family), the NetaYume-style all-in-one checkpoint; each gives the diffusers folder's pixels. Their
tokenizer is the SentencePiece model ComfyUI's files carry (`spiece_model`), or the files beside them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import add, pixels, run
from test_lumina2_parity import lumina_txt2img
from tiny_lumina2 import comfyui_files, with_sentencepiece

from nodeflow.core import RunContext
from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def files(tiny_lumina2, tmp_path_factory):
    return comfyui_files(tiny_lumina2, tmp_path_factory.mktemp("lumina2_files"))


@pytest.fixture()
def expected(tiny_lumina2, tmp_path):
    graph, ids = lumina_txt2img(tiny_lumina2, cfg=4.0)
    return pixels(run(Executor(device="cpu"), graph, tmp_path / "folder"), ids["decode"])


def test_the_gemma_file_encodes_as_the_transformers_folder(tiny_lumina2, files):
    from nodes.conditioning._text_encode import encode_text
    from nodes.models._checkpoint import load_checkpoint
    from nodes.models.loaders import LoadCLIP

    ctx = RunContext(device="cpu")
    (clip,) = LoadCLIP().run(ctx, clip_name=str(files["clip"]), family="lumina2")
    assert clip.family == "lumina2"  # not Z-Image, whose Qwen3 files CLIPLoader names alike
    _, folder_clip, _ = load_checkpoint(tiny_lumina2, "cpu", torch.float32)
    ours, theirs = (encode_text(ctx, c, "a red circle on a blue background") for c in (clip, folder_clip))
    assert torch.equal(ours.embeds, theirs.embeds) and torch.equal(ours.attention_mask, theirs.attention_mask)


def test_split_files_sample_like_the_pipeline_folder(tiny_lumina2, files, expected, tmp_path):
    graph, ids = lumina_txt2img(tiny_lumina2, cfg=4.0)
    model = add(graph, "models.load_unet", unet=str(files["unet"]))
    text = add(graph, "models.load_clip", clip_name=str(files["clip"]), family="lumina2")
    vae = add(graph, "models.load_vae", vae=str(tiny_lumina2 / "vae"), family="lumina2")
    graph.connect(model, "model", ids["sampler"], "model")
    for node in ("pos", "neg"):
        graph.connect(text, "clip", ids[node], "clip")
    graph.connect(vae, "vae", ids["decode"], "vae")
    graph.remove_node(ids["ckpt"])
    np.testing.assert_array_equal(pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"]), expected)


def test_the_all_in_one_checkpoint_samples_like_the_pipeline_folder(files, expected, tmp_path):
    graph, ids = lumina_txt2img(files["checkpoint"], cfg=4.0)
    np.testing.assert_array_equal(pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"]), expected)


def test_a_gemma_file_without_its_tokenizer_says_what_is_missing(files, tmp_path, monkeypatch):
    import shutil

    from nodeflow.core import NodeError
    from nodes.models.loaders import LoadCLIP

    monkeypatch.setenv("NODEFLOW_HOME", str(tmp_path / "home"))
    lone = tmp_path / "gemma_2_2b_fp16.safetensors"
    shutil.copy(files["clip"], lone)
    with pytest.raises(NodeError) as raised:
        LoadCLIP().run(RunContext(device="cpu"), clip_name=str(lone), family="lumina2")
    message = str(raised.value)
    assert raised.value.field == "clip_name" and "\n" not in message
    assert "no tokenizer for gemma_2_2b_fp16.safetensors" in message and "tokenizer.json" in message
    assert str(tmp_path / "tokenizer") in message


TEXTS = ("a red circle on a blue background", "Zebra \u00fcn\u00efcode 123  two spaces", "<Prompt Start> a square")


def _sentencepiece_ids(model: bytes, text: str) -> list[int]:
    """The ids ComfyUI's Gemma tokenizer gives: the SentencePiece model itself, <bos> first, no <eos>."""
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_proto=model, add_bos=True, add_eos=False).encode(text)


def test_a_gemma_file_carrying_its_tokenizer_needs_none_beside_it(files, tmp_path, monkeypatch):
    """ComfyUI's Gemma files keep their SentencePiece model as a uint8 tensor `spiece_model`: read from
    the file, it tokenizes as SentencePiece does, and the prompt encodes."""
    from nodes.conditioning._text_encode import encode_text
    from nodes.models.loaders import LoadCLIP

    monkeypatch.setenv("NODEFLOW_HOME", str(tmp_path / "home"))
    lone = tmp_path / "text_encoders" / "gemma_2_2b_fp16.safetensors"
    model = with_sentencepiece(files["clip"], lone, "spiece_model")
    ctx = RunContext(device="cpu")
    (clip,) = LoadCLIP().run(ctx, clip_name=str(lone), family="lumina2")
    for text in TEXTS:
        assert clip.tokenizer(text)["input_ids"] == _sentencepiece_ids(model, text)
    entry = encode_text(ctx, clip, TEXTS[0])
    assert entry.embeds.shape == (1, 256, 32)
    assert int(entry.attention_mask.sum()) == len(_sentencepiece_ids(model, TEXTS[0]))


def test_an_all_in_one_checkpoint_carrying_its_tokenizer_needs_none_beside_it(files, tmp_path, monkeypatch):
    from nodes.models._checkpoint import load_checkpoint

    monkeypatch.setenv("NODEFLOW_HOME", str(tmp_path / "home"))
    whole = tmp_path / "checkpoints" / "NetaYume_v35.safetensors"
    model = with_sentencepiece(files["checkpoint"], whole, "text_encoders.spiece_model")
    _, clip, _ = load_checkpoint(whole, "cpu", torch.float32)
    for text in TEXTS:
        assert clip.tokenizer(text)["input_ids"] == _sentencepiece_ids(model, text)


def test_a_prompt_past_the_pipelines_256_tokens_is_cut_with_a_warning(tiny_lumina2):
    from nodes.conditioning._text_encode import encode_text
    from nodes.models._checkpoint import load_checkpoint

    _, clip, _ = load_checkpoint(tiny_lumina2, "cpu", torch.float32)
    said: list[str] = []
    ctx = RunContext(device="cpu", on_message=lambda node, message: said.append(message))
    long = " ".join(["a red circle on a blue background"] * 40 + ["a green square"])
    entry = encode_text(ctx, clip, long)
    assert entry.embeds.shape == (1, 256, 32) and int(entry.attention_mask.sum()) == 256
    assert len(said) == 1 and "longer than the 256 Lumina2Pipeline reads" in said[0] and "green square" in said[0]
    encode_text(ctx, clip, "a red circle")
    assert len(said) == 1
