"""LTXAV Text Encoder Loader: Gemma 3 from a ComfyUI-style file (original names, the SentencePiece model it
carries) encodes a prompt to the same stacked states as the pipeline folder's Gemma3ForConditionalGeneration
with that tokenizer; the checkpoint beside it must be an LTX-2 one; a Gemma 2 file is refused."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.ltx2 import _adapter
from nodes.ltx2.text import LoadTextEncoder
from nodes.values import Clip

CTX = RunContext()


@pytest.fixture(scope="module")
def gemma_file(tiny_ltx2, tmp_path_factory):
    from diffusers import LTX2Pipeline
    from tiny_ltx2 import write_gemma_file

    folder, _ = tiny_ltx2
    gemma = LTX2Pipeline.from_pretrained(folder, local_files_only=True).text_encoder
    return write_gemma_file(gemma, tmp_path_factory.mktemp("gemma") / "gemma_3_tiny.safetensors"), gemma


def test_a_gemma_file_encodes_as_the_pipeline_folders_gemma(tiny_ltx2, gemma_file):
    folder, _ = tiny_ltx2
    path, reference = gemma_file
    (clip,) = LoadTextEncoder().run(CTX, str(path), str(folder), "default")
    assert type(clip.text_encoder).__name__ == "Gemma3TextModel" and clip.family == "ltx2"
    ours = _adapter.encode(CTX, clip, "a red circle")
    theirs = _adapter.encode(CTX, Clip(clip.tokenizer, reference, "cpu", torch.float32, family="ltx2"), "a red circle")
    assert ours.embeds.shape == (1, 1024, 128 * 3) and int(ours.attention_mask.sum()) > 3  # the pipeline's window
    assert torch.equal(ours.attention_mask, theirs.attention_mask)
    torch.testing.assert_close(ours.embeds, theirs.embeds, atol=1e-6, rtol=0)


def test_the_checkpoint_must_be_ltx2s_and_the_encoder_gemma3(tiny_ltx2, gemma_file, tmp_path):
    from safetensors.torch import save_file

    folder, audio_file = tiny_ltx2
    path, _ = gemma_file
    with pytest.raises(NodeError) as error:
        LoadTextEncoder().run(CTX, str(path), str(audio_file), "default")
    assert error.value.field == "ckpt_name"
    other = tmp_path / "gemma2.safetensors"
    save_file({"model.layers.0.pre_feedforward_layernorm.weight": torch.ones(4)}, str(other))
    with pytest.raises(NodeError, match="not a Gemma 3") as error:
        LoadTextEncoder().run(CTX, str(other), str(folder), "default")
    assert error.value.field == "text_encoder"
