"""Prompt weighting (parser + embedding maths), clip skip and textual inversion vs diffusers."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext


@pytest.mark.parametrize(("prompt", "expected"), [
    ("a red ball", [("a red ball", 1.0)]),
    ("a (red) ball", [("a ", 1.0), ("red", 1.1), (" ball", 1.0)]),
    ("((red))", [("red", pytest.approx(1.21))]),
    ("(red:1.5), (blue:0.5)", [("red", 1.5), (", ", 1.0), ("blue", 0.5)]),
    ("((red):2)", [("red", pytest.approx(2.2))]),  # the inner group multiplies the set weight
    ("(a:b)", [("a:b", pytest.approx(1.1))]),  # not a number: the colon is text
    ("\\(red:1.5\\)", [("(red:1.5)", 1.0)]),  # escaped: literal brackets, no weight
    ("[red] (blue", [("[red] (blue", 1.0)]),  # square brackets mean nothing; unmatched ( is text
    ("a) b", [("a) b", 1.0)]),
    ("(x:1.2)(y:1.2)", [("xy", 1.2)]),  # neighbours with one weight merge
])
def test_parser_reads_comfyui_weights(prompt, expected):
    from nodes.conditioning._prompt_syntax import parse_weights

    assert parse_weights(prompt) == expected


def test_embedding_names_found_as_words():
    from nodes.conditioning._prompt_syntax import embedding_names

    assert embedding_names("embedding:style, a (embedding:sub/x:1.2) and embedding:style") == ["style", "sub/x"]


@pytest.fixture(scope="module")
def bundle(tiny_sd):
    from nodes.models._checkpoint import load_checkpoint

    return load_checkpoint(tiny_sd, "cpu", torch.float32)


def _library_context() -> RunContext:
    """A context that finds models as a run does (the executor gives every node this lookup)."""
    from nodeflow.library import default_library

    return RunContext(on_find_model=lambda kind, name: default_library().find(kind, name))


def _encode(clip, text, ctx=None, **kwargs):
    from nodes.conditioning._prompt_encode import encode_prompt

    return encode_prompt(ctx or _library_context(), clip, text, **kwargs).embeds


def test_weighted_tokens_move_away_from_the_empty_prompt(bundle):
    from nodes.conditioning._text_encode import encode_text

    clip = bundle[1]
    plain = encode_text(RunContext(), clip, "red blue").embeds
    empty = encode_text(RunContext(), clip, "").embeds
    weighted = _encode(clip, "red (blue:1.5)")
    n_red = len(clip.tokenizer("red", add_special_tokens=False).input_ids)
    n_blue = len(clip.tokenizer("blue", add_special_tokens=False).input_ids)
    blue = slice(1 + n_red, 1 + n_red + n_blue)  # after BOS and "red"
    expected = plain.clone()
    expected[:, blue] = empty[:, blue] + 1.5 * (plain[:, blue] - empty[:, blue])
    torch.testing.assert_close(weighted, expected)
    assert not torch.allclose(weighted, plain)
    # Escaped brackets are plain text: the same as typing the brackets without weighting syntax.
    torch.testing.assert_close(_encode(clip, "\\(red\\)"), encode_text(RunContext(), clip, "(red)").embeds)


def test_clip_skip_matches_diffusers_clip_skip(tiny_sd, bundle):
    from pipelines import pipeline

    from nodes.conditioning.text_options import ClipSetLastLayer

    pipe, _ = pipeline("txt2img", tiny_sd)
    # diffusers 0.42 reads text_encoder.text_model.final_layer_norm, which transformers 5 flattened
    # away; point the name at the model itself (not registered as a child) so diffusers' code runs.
    encoder = pipe.text_encoder
    if not hasattr(encoder, "text_model"):
        object.__setattr__(encoder, "text_model", encoder)
    (skipped,) = ClipSetLastLayer().run(RunContext(), bundle[1], -2)
    reference, _ = pipe.encode_prompt("red ball", "cpu", 1, False, clip_skip=1)
    torch.testing.assert_close(_encode(skipped, "red ball"), reference, rtol=0, atol=0)
    default, _ = pipe.encode_prompt("red ball", "cpu", 1, False)
    assert not torch.allclose(reference, default)
    with pytest.raises(NodeError, match="2 layers"):
        ClipSetLastLayer().run(RunContext(), bundle[1], -4)


def test_sdxl_clip_skip_prompt_2_and_size_conditioning(tiny_xl):
    from diffusers import StableDiffusionXLPipeline

    from nodes.conditioning.text_options import ClipSetLastLayer, TextEncodeSDXL
    from nodes.models._checkpoint import load_checkpoint
    from nodes.sampling._cond_call import CondCall

    model, clip, _ = load_checkpoint(tiny_xl, "cpu", torch.float32)
    from pipelines import settled

    pipe = settled(StableDiffusionXLPipeline.from_pretrained(tiny_xl, local_files_only=True))
    (skipped,) = ClipSetLastLayer().run(RunContext(), clip, -3)
    embeds, _, pooled, _ = pipe.encode_prompt("red", prompt_2="blue", device="cpu", num_images_per_prompt=1,
                                              do_classifier_free_guidance=False, clip_skip=1)
    (cond,) = TextEncodeSDXL().run(RunContext(), skipped, 2048, 1536, 16, 32, 1024, 768, "blue", "red")
    entry = cond.entries[0]
    torch.testing.assert_close(entry.embeds, embeds, rtol=0, atol=0)
    torch.testing.assert_close(entry.pooled, pooled, rtol=0, atol=0)
    call = CondCall(model, cond, None, False, 2, (8, 8))
    assert call.positive[0].time_ids.tolist() == [[1536, 2048, 32, 16, 768, 1024]] * 2


def test_textual_inversion_matches_diffusers_loader(tiny_sd, bundle, tmp_path, monkeypatch):
    from pipelines import pipeline
    from safetensors.torch import save_file

    folder = tmp_path / "models" / "embeddings"
    folder.mkdir(parents=True)
    vectors = torch.randn(2, 32, generator=torch.Generator().manual_seed(3))
    save_file({"emb_params": vectors}, str(folder / "shiny.safetensors"))  # A1111's format, 2 vectors
    monkeypatch.setenv("NODEFLOW_MODEL_PATHS", str(tmp_path / "models"))
    clip = bundle[1]
    before = len(clip.tokenizer)
    ours = _encode(clip, "a embedding:shiny ball")

    pipe, _ = pipeline("txt2img", tiny_sd)
    pipe.load_textual_inversion(str(folder / "shiny.safetensors"), token="<shiny>")
    try:
        reference, _ = pipe.encode_prompt("a <shiny> ball", "cpu", 1, False)
    finally:
        pipe.unload_textual_inversion()
    torch.testing.assert_close(ours, reference, rtol=0, atol=0)
    assert len(clip.tokenizer) == before  # the loaded model is not changed
    assert not torch.allclose(ours, _encode(clip, "a shiny ball"))
    with pytest.raises(NodeError, match="embedding 'nothere' not found"):
        _encode(clip, "embedding:nothere")


def test_sdxl_embedding_with_clip_l_and_clip_g_matches_diffusers(tiny_xl, tmp_path, monkeypatch):
    from diffusers import StableDiffusionXLPipeline
    from safetensors.torch import save_file

    from nodes.models._checkpoint import load_checkpoint

    folder = tmp_path / "models" / "embeddings"
    folder.mkdir(parents=True)
    g = torch.Generator().manual_seed(4)
    vectors = {"clip_l": torch.randn(2, 32, generator=g), "clip_g": torch.randn(2, 32, generator=g)}
    save_file(vectors, str(folder / "xlstyle.safetensors"))
    monkeypatch.setenv("NODEFLOW_MODEL_PATHS", str(tmp_path / "models"))
    _, clip, _ = load_checkpoint(tiny_xl, "cpu", torch.float32)
    from nodes.conditioning._prompt_encode import encode_prompt

    ours = encode_prompt(_library_context(), clip, "a embedding:xlstyle ball")
    from pipelines import settled

    pipe = settled(StableDiffusionXLPipeline.from_pretrained(tiny_xl, local_files_only=True))
    pipe.load_textual_inversion(vectors["clip_l"], token="<xlstyle>", text_encoder=pipe.text_encoder,
                                tokenizer=pipe.tokenizer)
    pipe.load_textual_inversion(vectors["clip_g"], token="<xlstyle>", text_encoder=pipe.text_encoder_2,
                                tokenizer=pipe.tokenizer_2)
    embeds, _, pooled, _ = pipe.encode_prompt("a <xlstyle> ball", device="cpu", num_images_per_prompt=1,
                                              do_classifier_free_guidance=False)
    torch.testing.assert_close(ours.embeds, embeds, rtol=0, atol=0)
    torch.testing.assert_close(ours.pooled, pooled, rtol=0, atol=0)
