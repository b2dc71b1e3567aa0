"""Generate Text on a tiny Qwen3 whose head is tied to its embeddings (as Z-Image's Qwen3-4B):
seeded sampling repeats, another seed differs, greedy matches transformers' own causal LM, bounds hold."""

from __future__ import annotations

import pytest
import torch
from tiny_flow import qwen_tokenizer

from nodeflow.core import NodeError, RunContext
from nodes.conditioning.generate import TextGenerate
from nodes.values import Clip

OPTIONS = dict(prompt="a red circle", system_prompt="", max_length=12, sampling_mode="on", temperature=1.0,
               top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.0, seed=3, presence_penalty=0.0, thinking=False,
               use_default_template=True, max_seconds=60.0)


@pytest.fixture(scope="module")
def tied():
    """A Qwen3 causal LM with tied embeddings, and its bare transformer as a text encoder holds it."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    config = Qwen3Config(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=1, head_dim=16, vocab_size=300, max_position_embeddings=256,
                         tie_word_embeddings=True)
    lm = Qwen3ForCausalLM(config).eval()
    tokenizer = qwen_tokenizer()
    return lm, Clip(tokenizer=tokenizer, text_encoder=lm.model, device="cpu", dtype=torch.float32, family="z_image")


def run(clip, **changes):
    return TextGenerate().run(RunContext(node_id="7"), clip, **(OPTIONS | changes))[0]


def test_the_same_seed_writes_the_same_text_and_another_seed_other_text(tied):
    _, clip = tied
    first = run(clip)
    assert first and first == run(clip)
    assert any(run(clip, seed=seed) != first for seed in (4, 5, 6))


def test_greedy_is_transformers_own_causal_lm_over_the_same_weights(tied):
    lm, clip = tied
    text = run(clip, sampling_mode="off", max_length=8)
    ids = clip.tokenizer.apply_chat_template([{"role": "user", "content": "a red circle"}], tokenize=True,
                                             add_generation_prompt=True, enable_thinking=False, return_tensors="pt")
    ids = ids["input_ids"] if not torch.is_tensor(ids) else ids
    out = lm.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False,
                      eos_token_id=clip.tokenizer.eos_token_id, pad_token_id=clip.tokenizer.pad_token_id)
    assert text == clip.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)


def test_max_length_bounds_the_new_tokens_and_a_presence_penalty_changes_the_text(tied):
    _, clip = tied
    short = run(clip, max_length=1, sampling_mode="off")
    assert len(clip.tokenizer(short, add_special_tokens=False).input_ids) <= 1
    assert run(clip, presence_penalty=5.0, sampling_mode="on", max_length=24) != run(clip, max_length=24)


def test_an_encoder_without_a_head_and_a_picture_are_refused_naming_the_field(tied):
    from transformers import Qwen3Config, Qwen3Model

    untied = Qwen3Model(Qwen3Config(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                    num_key_value_heads=1, head_dim=16, vocab_size=300, tie_word_embeddings=False))
    _, clip = tied
    headless = Clip(tokenizer=clip.tokenizer, text_encoder=untied, device="cpu", dtype=torch.float32)
    with pytest.raises(NodeError, match="cannot write text") as caught:
        run(headless)
    assert caught.value.field == "clip"
    with pytest.raises(NodeError, match="sees no pictures"):
        TextGenerate().run(RunContext(node_id="7"), clip, image=torch.zeros(1, 8, 8, 3), **OPTIONS)
