"""A lone UMT5 file (CLIPLoader type `wan`) reads its prompts with UMT5's own vocabulary: the SentencePiece
model ComfyUI's umt5_xxl files carry as `spiece_model`, or tokenizer files beside it; never T5's, which
NodeFlow ships for Flux's and SD3's T5 (another vocabulary): without one it is refused in one line."""

from __future__ import annotations

import io

import pytest
import torch
from safetensors.torch import save_file

from nodeflow.core import NodeError, RunContext
from nodes.models.loaders import LoadCLIP

WORDS = ["a red circle on a blue background", "a green square", "the white dragon warrior stands still"]


def _sentencepiece() -> bytes:
    """A tiny unigram SentencePiece model with T5's special ids (pad 0, eos 1, unk 2, no bos)."""
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(WORDS * 8), model_writer=model,
                                             model_type="unigram", vocab_size=60, hard_vocab_limit=False, pad_id=0,
                                             eos_id=1, unk_id=2, bos_id=-1, minloglevel=2)
    return model.getvalue()


def _umt5_state(seed: int) -> dict[str, torch.Tensor]:
    from tiny_wan import umt5_encoder

    torch.manual_seed(seed)
    state = umt5_encoder().state_dict()
    return {k: v.clone().contiguous() for k, v in state.items() if k != "encoder.embed_tokens.weight"}


def test_the_file_s_own_sentencepiece_model_tokenizes(tmp_path):
    import sentencepiece

    model = _sentencepiece()
    state = _umt5_state(0)
    state["spiece_model"] = torch.frombuffer(bytearray(model), dtype=torch.uint8).clone()
    path = tmp_path / "umt5_xxl_fp8_e4m3fn_scaled.safetensors"
    save_file(state, str(path))
    clip = LoadCLIP().run(RunContext(), clip_name=str(path), family="wan")[0]
    tokenizer, _ = clip.part("text_encoder")
    expected = sentencepiece.SentencePieceProcessor(model_proto=model).encode("a red circle") + [1]  # then </s>
    assert tokenizer("a red circle").input_ids == expected
    assert tokenizer.pad_token_id == 0


def test_a_umt5_file_without_a_tokenizer_is_refused(tmp_path):
    path = tmp_path / "umt5_alone.safetensors"
    save_file(_umt5_state(1), str(path))
    with pytest.raises(NodeError) as caught:
        LoadCLIP().run(RunContext(), clip_name=str(path), family="wan")
    assert caught.value.field == "clip_name" and "spiece_model" in str(caught.value)
    assert "\n" not in str(caught.value)
