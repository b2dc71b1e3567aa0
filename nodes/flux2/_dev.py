"""FLUX.2 [dev]'s maths, written to match diffusers' Flux2Pipeline: Klein's denoiser call
(`nodes.flux2._adapter`) with the guidance input the dev model has (Flux Guidance, 4 by default),
and Mistral 3's prompt states (`_language_prompts.FLUX2_DEV`: BFL's system message and the user's
prompt through the tokenizer's chat template, padded to 512 tokens, hidden states 10, 20 and 30 side
by side, every position kept)."""

from __future__ import annotations

from typing import Any

from nodeflow.core import RunContext
from nodes.flux2._adapter import Denoise, denoiser_config, scheduler_config

__all__ = ["Denoise", "denoiser_config", "encode", "scheduler_config"]


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's Mistral 3 states, as Flux2Pipeline._get_mistral_3_small_prompt_embeds makes them."""
    from nodes.conditioning._language_prompts import FLUX2_DEV
    from nodes.conditioning._language_prompts import encode as encode_language
    from nodes.values import CondEntry

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    embeds, _ = encode_language(FLUX2_DEV, tokenizer, encoder, text, clip.device, spec=spec,
                                long_prompt=long_prompt, ctx=ctx)
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), text=text)
