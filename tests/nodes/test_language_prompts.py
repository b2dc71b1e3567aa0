"""Each declared language-model prompt recipe gives its pipeline's own prompt embeddings.

Tiny language models from configs and a tiny byte-level BPE tokenizer (the `tokenizers` package,
Qwen's special tokens and a chat template that renders one user message as Qwen3's does) stand in
for the real ones; the pipelines' own encode functions are the reference, on the same objects.
Both sides run the same float operations, so they agree to float32 rounding.
"""

from __future__ import annotations

import pytest
import torch

from nodes.conditioning import _language_prompts as recipes
from nodes.lumina2._adapter import SYSTEM_PROMPTS, with_system

PROMPT = "a red circle on a blue background"
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}")


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator([PROMPT, recipes.QWEN_IMAGE.template, SYSTEM_PROMPTS["superior"]], trainer)
    return Qwen2TokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                              chat_template=CHAT_TEMPLATE)


def _qwen3(layers: int, causal_lm: bool):
    from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3Model

    torch.manual_seed(0)
    config = Qwen3Config(hidden_size=32, intermediate_size=64, num_hidden_layers=layers, num_attention_heads=2,
                         num_key_value_heads=1, head_dim=16, vocab_size=400, max_position_embeddings=2048)
    return (Qwen3ForCausalLM if causal_lm else Qwen3Model)(config).eval()


def test_qwen_image_recipe_is_the_pipelines(tokenizer):
    from diffusers import FlowMatchEulerDiscreteScheduler, QwenImagePipeline
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(0)
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 1, "vocab_size": 400,
                     "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]}},
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2, "out_hidden_size": 32,
                       "fullatt_block_indexes": [0]})
    encoder = Qwen2_5_VLForConditionalGeneration(config).eval()
    pipe = QwenImagePipeline(FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer, None)
    with torch.no_grad():
        expected, expected_mask = pipe._get_qwen_prompt_embeds(PROMPT, device=torch.device("cpu"))

    embeds, mask = recipes.encode(recipes.QWEN_IMAGE, tokenizer, encoder, PROMPT, "cpu")

    rendered = len(tokenizer(recipes.QWEN_IMAGE.template.format(PROMPT)).input_ids)
    assert embeds.shape == expected.shape and expected.shape[1] == rendered - 34  # the system prompt is cut
    assert torch.allclose(embeds, expected, atol=1e-6) and torch.equal(mask, expected_mask)


def test_z_image_recipe_is_the_pipelines(tokenizer):
    from diffusers import FlowMatchEulerDiscreteScheduler, ZImagePipeline

    encoder = _qwen3(2, causal_lm=False)
    pipe = ZImagePipeline(FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer, None)
    with torch.no_grad():
        [expected] = pipe._encode_prompt(PROMPT, device=torch.device("cpu"))

    embeds, mask = recipes.encode(recipes.Z_IMAGE, tokenizer, encoder, PROMPT, "cpu")

    assert embeds.shape == (1, *expected.shape) and bool(mask.all())  # only the prompt's tokens, not 512
    assert torch.allclose(embeds[0], expected, atol=1e-6)


def test_flux2_klein_recipe_stacks_the_pipelines_three_layers(tokenizer):
    from diffusers import Flux2KleinPipeline

    encoder = _qwen3(28, causal_lm=True)  # layers 9, 18 and 27 are read
    with torch.no_grad():
        expected = Flux2KleinPipeline._get_qwen3_prompt_embeds(encoder, tokenizer, PROMPT, device="cpu")

    embeds, mask = recipes.encode(recipes.FLUX2_KLEIN, tokenizer, encoder, PROMPT, "cpu")

    assert embeds.shape == expected.shape == (1, 512, 3 * 32)
    assert torch.allclose(embeds, expected, atol=1e-6) and int(mask.sum()) < 512


def test_lumina2_recipe_is_the_pipelines(tokenizer):
    from diffusers import FlowMatchEulerDiscreteScheduler, Lumina2Pipeline
    from transformers import Gemma2Config, Gemma2Model

    torch.manual_seed(0)
    config = Gemma2Config(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                          num_key_value_heads=1, head_dim=16, vocab_size=400)
    encoder = Gemma2Model(config).eval()
    pipe = Lumina2Pipeline(None, FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer)
    with torch.no_grad():
        expected, expected_mask, *_ = pipe.encode_prompt(PROMPT, do_classifier_free_guidance=False,
                                                         device=torch.device("cpu"))

    assert pipe.system_prompt == SYSTEM_PROMPTS["superior"]
    embeds, mask = recipes.encode(recipes.LUMINA2, tokenizer, encoder, with_system(SYSTEM_PROMPTS["superior"], PROMPT),
                                  "cpu")

    assert embeds.shape == expected.shape == (1, 256, 32)
    assert torch.allclose(embeds, expected, atol=1e-6) and torch.equal(mask, expected_mask)


@pytest.fixture(scope="module")
def vision_parts():
    """A tiny Qwen2.5-VL that sees pictures, its tokenizer (with the vision tokens) and processor."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2TokenizerFast,
        Qwen2VLImageProcessorPil,
    )

    from nodes.models._language_encoders import picture_processor

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
               "<|video_pad|>"]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator([PROMPT, recipes.QWEN_IMAGE_EDIT_PLUS.template, "Picture 1: make it green"], trainer)
    tokenizer = Qwen2TokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in special}
    processor = picture_processor(tokenizer, Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=112 * 112))
    torch.manual_seed(0)
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 1, "vocab_size": 400,
                     "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]}},
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2, "out_hidden_size": 32,
                       "fullatt_block_indexes": [0], "window_size": 56},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    return Qwen2_5_VLForConditionalGeneration(config).eval(), tokenizer, processor


def _pictures(count: int):
    from PIL import Image

    generator = torch.Generator().manual_seed(3)
    return [Image.fromarray((torch.rand(56, 84, 3, generator=generator) * 255).to(torch.uint8).numpy())
            for _ in range(count)]


@pytest.mark.parametrize(("pipeline_name", "recipe_name", "count"), [
    ("QwenImageEditPipeline", "QWEN_IMAGE_EDIT", 1),
    ("QwenImageEditPlusPipeline", "QWEN_IMAGE_EDIT_PLUS", 2),
])
def test_edit_recipes_show_the_pictures_as_their_pipelines_do(vision_parts, pipeline_name, recipe_name, count):
    import diffusers
    from diffusers import FlowMatchEulerDiscreteScheduler

    encoder, tokenizer, processor = vision_parts
    pipe = getattr(diffusers, pipeline_name)(FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer, processor,
                                             None)
    pictures = _pictures(count)
    with torch.no_grad():
        expected, expected_mask = pipe._get_qwen_prompt_embeds(
            "make it green", pictures if count > 1 else pictures[0], device=torch.device("cpu"))

    recipe = getattr(recipes, recipe_name)
    embeds, mask = recipes.encode(recipe, tokenizer, encoder, "make it green", "cpu", pictures, processor)
    blind, _ = recipes.encode(recipe, tokenizer, encoder, "make it green", "cpu", [pictures[0].transpose(0)],
                              processor)

    assert embeds.shape == expected.shape and torch.equal(mask, expected_mask)
    assert torch.allclose(embeds, expected, atol=1e-6)
    assert not torch.allclose(blind[:, -8:], embeds[:, -8:], atol=1e-3)  # the states depend on the pictures
