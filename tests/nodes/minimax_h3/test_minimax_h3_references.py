"""MiniMax H3's picture-held modes against MiniMaxH3ModularPipeline at tolerance 0: the first and last
frames together (fl2va) and two reference pictures (ref2va, each packed at its own size: the pipeline's
2048 short side lowered to the tiny pictures' own for the test)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from test_minimax_h3_parity import FRAMES, PROMPT, SEED, SIDE, STEPS, as_model, empty_latent
from tiny_minimax_h3 import parts, pipeline

from nodes.minimax_h3 import _adapter as ad
from nodes.minimax_h3 import _references as refs
from nodes.qwen_image21._prompt import processor_for
from nodes.values import CondEntry, Vae


@pytest.fixture(scope="module")
def tiny():
    return parts()


def _pixels(seed: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _reference(tiny, **inputs) -> dict:
    pipe = pipeline(tiny)
    pipe.register_to_config(reference_image_short_edge=SIDE)
    pipe.update_components(transformer_ref=tiny["transformer"])  # the ref2va checkpoint: the same tiny one here
    return pipe(prompt=PROMPT, height=SIDE, width=SIDE, num_frames=FRAMES, num_inference_steps=STEPS,
                generator=torch.Generator().manual_seed(SEED), output=["latents", "audio_latents"], **inputs)


def test_first_and_last_frames_equal_the_pipeline(tiny):
    first, last = _pixels(1, SIDE, SIDE), _pixels(2, SIDE, SIDE)
    want = _reference(tiny, image=Image.fromarray(first), last_image=Image.fromarray(last))
    states, tags = ad.prompt_states(tiny["tokenizer"], tiny["text_encoder"], PROMPT, "cpu",
                                    (Image.fromarray(first), Image.fromarray(last)), processor_for(tiny["tokenizer"]))
    vae = Vae(tiny["vae"], "cpu", torch.float32)
    guides = tuple(ad.Guide(place, ad.keyframe_latents(vae, torch.from_numpy(p)[None] / 255.0))
                   for place, p in ((0, first), (FRAMES - 1, last)))
    got = ad.sample(as_model(tiny["transformer"]), CondEntry(embeds=states, extra=ad.Prompt(tags, guides)),
                    empty_latent(), SEED, STEPS)
    assert torch.equal(got["samples"], want["latents"])
    assert torch.equal(got["audio_samples"][0].permute(1, 0, 2), want["audio_latents"])


def test_reference_pictures_equal_the_pipeline(tiny):
    from diffusers.modular_pipelines.minimax_h3.references import MiniMaxH3ImageReference

    pictures = (_pixels(3, SIDE, SIDE), _pixels(4, SIDE, 2 * SIDE))
    want = _reference(tiny, references=[MiniMaxH3ImageReference(image=Image.fromarray(p)) for p in pictures])
    vae = Vae(tiny["vae"], "cpu", torch.float32)
    references = tuple(refs.Reference(refs.image_reference(torch.from_numpy(p)[None] / 255.0),
                                      ad.keyframe_latents(vae, torch.from_numpy(p)[None] / 255.0)) for p in pictures)
    states, tags = refs.prompt_states(tiny["tokenizer"], tiny["text_encoder"], processor_for(tiny["tokenizer"]),
                                      PROMPT, references, "cpu")
    entry = CondEntry(embeds=states, extra=ad.Prompt(tags, references=references))
    got = ad.sample(as_model(tiny["transformer"]), entry, empty_latent(), SEED, STEPS)
    assert torch.equal(got["samples"], want["latents"])
    assert torch.equal(got["audio_samples"][0].permute(1, 0, 2), want["audio_latents"])


def test_reference_sizes_follow_comfyuis_rule():
    assert refs.fitted_size(2048, 1024, 64 * 64, "match") == (96, 32)  # scaled down to the video's area
    assert refs.fitted_size(40, 40, 64 * 64, "match") == (32, 32)  # never up: rounded to 32
    assert refs.fitted_size(4096, 3000, 64 * 64, "max") == (2784, 2048)
