"""The T5 tokenizer NodeFlow ships (resources/tokenizers/t5): Google's T5 v1.1 vocabulary, so a lone
T5-XXL file (Flux, SD3, Chroma) loads offline with nothing beside it."""

from __future__ import annotations

from nodes.families import by_name
from nodes.models._tokenizers import SHIPPED_T5, t5_tokenizer


def test_the_shipped_t5_tokenizer_is_t5s():
    from transformers import T5TokenizerFast

    tokenizer = T5TokenizerFast.from_pretrained(SHIPPED_T5, local_files_only=True)
    assert len(tokenizer) == 32100  # 32,000 pieces and 100 sentinel tokens
    assert tokenizer("a photo of a cat").input_ids == [3, 9, 1202, 13, 3, 9, 1712, 1]
    assert tokenizer("Hello world").input_ids == [8774, 296, 1]
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)


def test_a_lone_t5_file_uses_the_shipped_tokenizer(tmp_path):
    lone = tmp_path / "t5xxl_fp16.safetensors"
    tokenizer = t5_tokenizer(lone, by_name("flux"), "text_encoder_2")
    assert tokenizer("a red circle").input_ids == [3, 9, 1131, 8196, 1]


def test_a_tokenizer_beside_the_file_comes_first(tmp_path):
    from tiny_flow import t5_tokenizer as tiny_t5_tokenizer

    tiny_t5_tokenizer(tmp_path / "tokenizer_2")
    tokenizer = t5_tokenizer(tmp_path / "t5.safetensors", by_name("flux"), "text_encoder_2")
    assert len(tokenizer) < 100
