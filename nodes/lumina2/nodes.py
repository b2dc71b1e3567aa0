"""Lumina 2's own nodes: its prompt with a system prompt, and its pipeline's guidance settings.

- Text Encode (Lumina 2): `system + " <Prompt Start> " + prompt` through Gemma 2, as Lumina2Pipeline
  encodes its positive prompt (system prompt "superior" is the pipeline's) and ComfyUI's
  CLIPTextEncodeLumina2 does. The pipeline encodes the negative prompt as written: Text Encode.
- Lumina 2 Guidance: Lumina2Pipeline's cfg_normalization (the guided output rescaled to the positive
  one's norm) and cfg_trunc_ratio (guidance stops once that fraction of the steps has run), on the
  model; the diffusers convention follows them (`nodes.lumina2._adapter.mix`, `guided_at`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import BOOLEAN, CLIP, CONDITIONING, FLOAT, MODEL, STRING
from nodes.families import LONG_PROMPT_HELP, LONG_PROMPTS
from nodes.lumina2._adapter import SYSTEM_PROMPTS, with_system

#: The pipeline this family's nodes are written for (`Family.pipeline`).
PIPELINE = "Lumina2Pipeline"


def _require_lumina(spec: Any, node: str, field: str) -> None:
    if spec is None or spec.pipeline != PIPELINE:
        raise NodeError(f"{node} is for Lumina 2 models; this {field} is "
                        f"{spec.title if spec is not None else 'a Stable Diffusion one'}", field)


class TextEncodeLumina2(Node):
    type_id = "lumina2.text_encode"
    title = "Text Encode (Lumina 2)"
    category = "conditioning/lumina2"
    description = ("Encodes a prompt after one of the system prompts Lumina 2 was trained with, as Lumina2Pipeline "
                   "encodes its prompt ('superior' is the pipeline's) and ComfyUI's CLIP Text Encode (Lumina 2) does. "
                   "Encode the negative prompt with Text Encode: the pipeline gives it no system prompt.")
    inputs = (
        Input("clip", CLIP),
        Input("system_prompt", STRING, default="superior", choices=tuple(SYSTEM_PROMPTS),
              help=" ".join(f"{k}: {v}" for k, v in SYSTEM_PROMPTS.items())),
        Input("user_prompt", STRING, default="", multiline=True),
        Input("long_prompt", STRING, default="cut", choices=LONG_PROMPTS, help=LONG_PROMPT_HELP),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, clip: Any, system_prompt: str, user_prompt: str,
            long_prompt: str = "cut") -> tuple[Any]:
        from nodes.conditioning._prompt_encode import encode_prompt
        from nodes.values import Conditioning

        if system_prompt not in SYSTEM_PROMPTS:
            raise NodeError(f"unknown system prompt '{system_prompt}' (known: {', '.join(SYSTEM_PROMPTS)})",
                            "system_prompt")
        _require_lumina(clip.spec, self.title, "clip")
        text = with_system(SYSTEM_PROMPTS[system_prompt], user_prompt)
        return (Conditioning([encode_prompt(ctx, clip, text, long_prompt)]),)


class Lumina2Guidance(Node):
    type_id = "lumina2.guidance"
    title = "Lumina 2 Guidance"
    category = "sampling/guidance"
    description = ("Lumina2Pipeline's guidance settings: cfg_normalization rescales the guided prediction to the "
                   "positive prompt's size (on by default, as in the pipeline); guidance stops once cfg_trunc_ratio "
                   "of the steps have run (1: all steps guided). The diffusers convention follows them.")
    inputs = (
        Input("model", MODEL),
        Input("cfg_normalization", BOOLEAN, default=True),
        Input("cfg_trunc_ratio", FLOAT, default=1.0, min=0.0, max=1.0, step=0.01,
              help="The fraction of the steps that are guided; the rest run the positive prompt alone."),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, cfg_normalization: bool = True,
            cfg_trunc_ratio: float = 1.0) -> tuple[Any]:
        _require_lumina(model.spec, self.title, "model")
        if not 0.0 <= float(cfg_trunc_ratio) <= 1.0:
            raise NodeError(f"cfg_trunc_ratio must be between 0 and 1, not {cfg_trunc_ratio:g}", "cfg_trunc_ratio")
        options = {"cfg_normalization": bool(cfg_normalization), "cfg_trunc_ratio": float(cfg_trunc_ratio)}
        return (dataclasses.replace(model, guidance_options=options),)
