"""Generate Text: prompt expansion with the workflow's own language-model text encoder (ComfyUI's TextGenerate)."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import BOOLEAN, CLIP, IMAGE, STRING
from nodes.conditioning._generate import MAX_SECONDS, SAMPLING_INPUTS


class TextGenerate(Node):
    type_id = "conditioning.generate_text"
    title = "Generate Text"
    category = "conditioning"
    description = ("Writes text with the CLIP input's language model (the Qwen encoders of Z-Image, Qwen-Image...), "
                   "as ComfyUI's Generate Text: the prompt in the model's chat template, then up to max_length new "
                   "tokens, greedy with sampling_mode off, sampled (seeded: the same seed writes the same text) "
                   "with it on. Stops after max_seconds whatever it has written. A vision-language encoder "
                   "(Qwen3-VL, Qwen2.5-VL) reads the image's pictures before the prompt.")
    inputs = (
        Input("clip", CLIP),
        Input("prompt", STRING, default="", multiline=True),
        Input("image", IMAGE, optional=True,
              help="pictures the model reads before the prompt (vision-language encoders only)"),
        Input("system_prompt", STRING, default="", multiline=True, help="the chat's system message (none if empty)"),
        *SAMPLING_INPUTS,
        Input("thinking", BOOLEAN, default=False, help="the chat template's thinking mode, for models that have one"),
        Input("use_default_template", BOOLEAN, default=True, help="wrap the prompt in the model's chat template"),
        MAX_SECONDS,
    )
    outputs = (Output("text", STRING),)

    def run(self, ctx: RunContext, clip: Any, prompt: str, system_prompt: str, max_length: int, sampling_mode: str,
            temperature: float, top_k: int, top_p: float, min_p: float, repetition_penalty: float, seed: int,
            presence_penalty: float, thinking: bool, use_default_template: bool, max_seconds: float,
            image: Any = None) -> tuple[str]:
        from nodes.conditioning._generate import Sampling, generate
        from nodes.conditioning._pictures import picture_prompt

        ids, extra = picture_prompt(clip, image, prompt, system_prompt, thinking=thinking,
                                    template=use_default_template) if image is not None else (None, None)
        sampling = Sampling.chosen(sampling_mode, temperature, top_k, top_p, min_p, repetition_penalty,
                                   presence_penalty, seed)
        return (generate(ctx, clip, prompt, system_prompt, max_tokens=max_length, sampling=sampling,
                         thinking=thinking, template=use_default_template, seconds=max_seconds, ids=ids,
                         extra=extra),)
