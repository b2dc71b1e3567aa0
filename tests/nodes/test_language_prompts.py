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
from nodes.families import by_name
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


def _spec(family: str):
    """The family's declared language-model encoder (its pipeline's window)."""
    return by_name(family).encoders[0]


def _qwen3(layers: int, causal_lm: bool, positions: int = 2048):
    from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3Model

    torch.manual_seed(0)
    config = Qwen3Config(hidden_size=32, intermediate_size=64, num_hidden_layers=layers, num_attention_heads=2,
                         num_key_value_heads=1, head_dim=16, vocab_size=400, max_position_embeddings=positions)
    return (Qwen3ForCausalLM if causal_lm else Qwen3Model)(config).eval()


def _qwen25_vl():
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(0)
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 1, "vocab_size": 400,
                     "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]}},
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2, "out_hidden_size": 32,
                       "fullatt_block_indexes": [0]})
    return Qwen2_5_VLForConditionalGeneration(config).eval()


def _gemma2():
    from transformers import Gemma2Config, Gemma2Model

    torch.manual_seed(0)
    config = Gemma2Config(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                          num_key_value_heads=1, head_dim=16, vocab_size=400)
    return Gemma2Model(config).eval()


def test_qwen_image_recipe_is_the_pipelines(tokenizer):
    from diffusers import FlowMatchEulerDiscreteScheduler, QwenImagePipeline

    encoder = _qwen25_vl()
    pipe = QwenImagePipeline(FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer, None)
    with torch.no_grad():
        expected, expected_mask = pipe._get_qwen_prompt_embeds(PROMPT, device=torch.device("cpu"))

    embeds, mask = recipes.encode(recipes.QWEN_IMAGE, tokenizer, encoder, PROMPT, "cpu", spec=_spec("qwen-image"))

    rendered = len(tokenizer(recipes.QWEN_IMAGE.template.format(PROMPT)).input_ids)
    assert embeds.shape == expected.shape and expected.shape[1] == rendered - 34  # the system prompt is cut
    assert torch.allclose(embeds, expected, atol=1e-6) and torch.equal(mask, expected_mask)


def test_z_image_recipe_is_the_pipelines(tokenizer):
    from diffusers import FlowMatchEulerDiscreteScheduler, ZImagePipeline

    encoder = _qwen3(2, causal_lm=False)
    pipe = ZImagePipeline(FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer, None)
    with torch.no_grad():
        [expected] = pipe._encode_prompt(PROMPT, device=torch.device("cpu"))

    embeds, mask = recipes.encode(recipes.Z_IMAGE, tokenizer, encoder, PROMPT, "cpu", spec=_spec("z-image"))

    assert embeds.shape == (1, *expected.shape) and bool(mask.all())  # only the prompt's tokens, not 512
    assert torch.allclose(embeds[0], expected, atol=1e-6)


def test_flux2_klein_recipe_stacks_the_pipelines_three_layers(tokenizer):
    from diffusers import Flux2KleinPipeline

    encoder = _qwen3(28, causal_lm=True)  # layers 9, 18 and 27 are read
    with torch.no_grad():
        expected = Flux2KleinPipeline._get_qwen3_prompt_embeds(encoder, tokenizer, PROMPT, device="cpu")

    embeds, mask = recipes.encode(recipes.FLUX2_KLEIN, tokenizer, encoder, PROMPT, "cpu", spec=_spec("flux2-klein"))

    assert embeds.shape == expected.shape == (1, 512, 3 * 32)
    assert torch.allclose(embeds, expected, atol=1e-6) and int(mask.sum()) < 512


def test_lumina2_recipe_is_the_pipelines(tokenizer):
    from diffusers import FlowMatchEulerDiscreteScheduler, Lumina2Pipeline

    encoder = _gemma2()
    pipe = Lumina2Pipeline(None, FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer)
    with torch.no_grad():
        expected, expected_mask, *_ = pipe.encode_prompt(PROMPT, do_classifier_free_guidance=False,
                                                         device=torch.device("cpu"))

    assert pipe.system_prompt == SYSTEM_PROMPTS["superior"]
    embeds, mask = recipes.encode(recipes.LUMINA2, tokenizer, encoder, with_system(SYSTEM_PROMPTS["superior"], PROMPT),
                                  "cpu", spec=_spec("lumina2"))

    assert embeds.shape == expected.shape == (1, 256, 32)
    assert torch.allclose(embeds, expected, atol=1e-6) and torch.equal(mask, expected_mask)


#: A prompt longer than every window below (512 tokens with a Qwen template, Lumina 2's 256).
LONG = ", ".join([PROMPT] * 90)


class _Said:
    """A run context that keeps its warnings."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def warn(self, message: str) -> None:
        self.lines.append(message)


def _whole(recipe, tokenizer, encoder, text: str):
    """The encoder's states (the recipe's layers) on the prompt's full token ids, after the dropped ones."""
    ids = recipes._tokenize(recipe, tokenizer, text, {})["input_ids"]
    with torch.no_grad():
        states = encoder(input_ids=ids, output_hidden_states=True, use_cache=False).hidden_states
    return torch.cat([states[i] for i in recipe.layers], dim=-1)[:, recipe.drop:], ids.shape[1] - recipe.drop


def _pipeline_cut(family: str, tokenizer, encoder, text: str):
    """The pipeline's own encoding of `text` (its default max_sequence_length cuts it)."""
    import diffusers
    from diffusers import FlowMatchEulerDiscreteScheduler

    cpu = torch.device("cpu")
    with torch.no_grad():
        if family == "qwen-image":
            pipe = diffusers.QwenImagePipeline(FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer, None)
            return pipe.encode_prompt(text, device=cpu, max_sequence_length=512)[0]
        if family == "z-image":
            pipe = diffusers.ZImagePipeline(FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer, None)
            return pipe._encode_prompt(text, device=cpu)[0][None]
        if family == "flux2-klein":
            return diffusers.Flux2KleinPipeline._get_qwen3_prompt_embeds(encoder, tokenizer, text, device=cpu)
        pipe = diffusers.Lumina2Pipeline(None, FlowMatchEulerDiscreteScheduler(), None, encoder, tokenizer)
        return pipe._get_gemma_prompt_embeds(text, device=cpu)[0]


_ENCODERS = {"qwen-image": _qwen25_vl, "z-image": lambda: _qwen3(2, causal_lm=False),
             "flux2-klein": lambda: _qwen3(28, causal_lm=True), "lumina2": _gemma2}
_RECIPES = {"qwen-image": recipes.QWEN_IMAGE, "z-image": recipes.Z_IMAGE, "flux2-klein": recipes.FLUX2_KLEIN,
            "lumina2": recipes.LUMINA2}


@pytest.mark.parametrize("family", ["qwen-image", "z-image", "flux2-klein", "lumina2"])
def test_a_long_prompt_is_cut_at_the_pipelines_window_or_read_whole(tokenizer, family):
    """diffusers convention ('cut'): the pipeline's own states, cut at its max_sequence_length, with a
    warning; comfyui convention ('chunk'): the encoder's states on every token id of the prompt."""
    encoder, recipe, spec = _ENCODERS[family](), _RECIPES[family], _spec(family)
    said = _Said()

    cut, _ = recipes.encode(recipe, tokenizer, encoder, LONG, "cpu", spec=spec, long_prompt="cut", ctx=said)
    whole, mask = recipes.encode(recipe, tokenizer, encoder, LONG, "cpu", spec=spec, long_prompt="chunk", ctx=said)

    expected, length = _whole(recipe, tokenizer, encoder, LONG)
    window, kept = spec.max_length, min(length, spec.comfy_max_length or length)  # Lumina 2's transformer: 299
    assert length > window and cut.shape[1] == window and whole.shape[1] == kept
    assert torch.allclose(whole, expected[:, :kept], atol=1e-5) and bool(mask.all())
    assert torch.allclose(cut, _pipeline_cut(family, tokenizer, encoder, LONG), atol=1e-5)
    assert f"longer than the {window} " in said.lines[0]
    assert len(said.lines) == (1 if kept == length else 2)  # 'chunk' warns only where it cuts too


def test_text_encode_reads_a_family_prompt_whole_with_long_prompt_chunk(tokenizer):
    """Text Encode's long_prompt reaches the family's adapter: Z-Image's Qwen3 states of every token."""
    from nodeflow.core import RunContext
    from nodes.conditioning.prompts import TextEncode
    from nodes.values import Clip

    encoder = _qwen3(2, causal_lm=False)
    clip = Clip(tokenizer=tokenizer, text_encoder=encoder, device="cpu", dtype=torch.float32, family="z-image")
    (cut,) = TextEncode().run(RunContext(), clip, LONG, "cut")
    (whole,) = TextEncode().run(RunContext(), clip, LONG, "chunk")

    expected, length = _whole(recipes.Z_IMAGE, tokenizer, encoder, LONG)
    assert cut.entries[0].embeds.shape[1] == 512 < length == whole.entries[0].embeds.shape[1]
    assert torch.allclose(whole.entries[0].embeds, expected, atol=1e-5)


def test_a_prompt_past_the_models_positions_is_one_line_naming_the_text(tokenizer):
    from nodeflow.core import NodeError

    encoder = _qwen3(1, causal_lm=False, positions=64)
    with pytest.raises(NodeError, match="takes at most 64") as error:
        recipes.encode(recipes.Z_IMAGE, tokenizer, encoder, LONG, "cpu", spec=_spec("z-image"), long_prompt="chunk")
    assert error.value.field == "text"


def test_the_convention_decides_the_cut_the_family_declares_the_window():
    from nodeflow.core import NodeError

    assert _spec("qwen-image").cut(None, "cut") == 512 and _spec("qwen-image").cut(None, "chunk") is None
    t5 = by_name("hidream").encoders[2]
    assert t5.cut(None, "chunk") == 128  # ComfyUI keeps HiDream's T5 at 128 tokens too
    with pytest.raises(NodeError) as error:
        _spec("z-image").cut(None, "whole")
    assert error.value.field == "long_prompt"


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


@pytest.mark.parametrize(("adapter", "rows", "most"), [("nodes.lumina2._adapter", 300, 299),
                                                        ("nodes.z_image._adapter", 1536, 1504)])
def test_a_prompt_past_the_transformers_text_positions_is_one_line_before_sampling(adapter, rows, most):
    """A prompt read whole can outgrow the rotary table diffusers' transformer keeps for text (Lumina 2's
    axes_lens[0] = 300 rows, the picture one row after the caption; Z-Image's 1536, the caption padded to
    32s starting at row 1): refused naming the prompt, and the longest that fits is taken."""
    import importlib
    from types import SimpleNamespace

    from nodeflow.core import NodeError
    from nodes.values import CondEntry

    config = SimpleNamespace(axes_lens=[rows, 512, 512], cap_feat_dim=32)
    model = SimpleNamespace(vae_scale_factor=8, device="cpu", control=None, scheduler_config={},
                            unet=SimpleNamespace(config=config))
    denoise = importlib.import_module(adapter).Denoise

    def entry(tokens: int) -> CondEntry:
        return CondEntry(embeds=torch.zeros(1, tokens, 32), attention_mask=torch.ones(1, tokens, dtype=torch.long))

    denoise(model, entry(most), 1, (8, 8))
    with pytest.raises(NodeError, match=f"longer than this .* transformer places \\({most}") as error:
        denoise(model, entry(most + 1), 1, (8, 8))
    assert error.value.field == "positive"
