"""Prompt nodes: text to CONDITIONING, and ways to merge conditionings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.types import CLIP, CONDITIONING, FLOAT, STRING
from nodes.families import LONG_PROMPT_HELP, LONG_PROMPTS

#: How prompts are read (the rule itself lives in nodes.conditioning._prompt_syntax).
PROMPT_SYNTAX_HELP = (
    "Weights are read as ComfyUI reads them: (word) x1.1, ((word)) x1.21, (word:1.3) sets 1.3; "
    "a weighted token becomes empty + w x (token - empty), 'empty' being an empty prompt's "
    "encoding. \\( and \\) are literal brackets; [word] is plain text (no down-weighting, as in "
    "ComfyUI). embedding:name uses the textual-inversion embedding 'name' from the model library."
)


class TextEncode(Node):
    type_id = "conditioning.text_encode"
    title = "Text Encode"
    category = "conditioning"
    infotext = {"text": "prompt"}
    description = (
        "Turns a prompt into CONDITIONING with the checkpoint's text encoder(s), exactly as "
        "diffusers' pipelines do. A prompt longer than the encoder's window (77 tokens for SD, the "
        "pipeline's max_sequence_length for a language model) is cut there, as diffusers does, and "
        "the run log names the words that were cut off; or, with long_prompt 'chunk', read as "
        "ComfyUI reads it: CLIP in windows that are joined, a language model or T5 whole. "
        + PROMPT_SYNTAX_HELP
    )
    inputs = (
        Input("clip", CLIP),
        Input("text", STRING, default="", multiline=True,
              help="What the picture should show (or, as the negative prompt, avoid)."),
        Input("long_prompt", STRING, default="cut", choices=LONG_PROMPTS, help=LONG_PROMPT_HELP),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        """One 77-token window ('cut'), or one per 75 tokens of the prompt ('chunk'; a token is
        taken as 4 characters, CLIP's average on English text)."""
        text, mode = params.get("text"), params.get("long_prompt", "cut")
        windows = -(-len(text) // (4 * 75)) if isinstance(text, str) and mode == "chunk" else 1
        return FlowSize(tokens=77 * max(windows, 1), field="text")

    def run(self, ctx: RunContext, clip: Any, text: str, long_prompt: str = "cut") -> tuple[Any]:
        from nodes.conditioning._prompt_encode import encode_prompt
        from nodes.values import Conditioning

        return (Conditioning([encode_prompt(ctx, clip, text, long_prompt)]),)


class CombineConditioning(Node):
    type_id = "conditioning.combine"
    title = "Conditioning Combine"
    category = "conditioning"
    description = (
        "Uses both prompts: the model is run once per prompt and the predictions are averaged "
        "(weighted by each prompt's strength). Costs one extra model call per step and prompt."
    )
    inputs = (Input("conditioning_1", CONDITIONING), Input("conditioning_2", CONDITIONING))
    outputs = (Output("conditioning", CONDITIONING),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        return FlowSize.joined(sizes, "conditioning_2", batches=False)

    def run(self, ctx: RunContext, conditioning_1: Any, conditioning_2: Any) -> tuple[Any]:
        from nodes.values import Conditioning

        return (Conditioning(list(conditioning_1.entries) + list(conditioning_2.entries)),)


class ConcatConditioning(Node):
    type_id = "conditioning.concat"
    title = "Conditioning Concat"
    category = "conditioning"
    description = (
        "Appends the tokens of the second prompt to the first (one longer prompt). Use it to go "
        "past the 77-token window: encode the parts separately and concatenate. Give the negative "
        "prompt the same number of parts."
    )
    inputs = (Input("conditioning_to", CONDITIONING), Input("conditioning_from", CONDITIONING))
    outputs = (Output("conditioning", CONDITIONING),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        return FlowSize.joined(sizes, "conditioning_from", batches=False)

    def run(self, ctx: RunContext, conditioning_to: Any, conditioning_from: Any) -> tuple[Any]:
        import torch

        from nodes.values import CondEntry, Conditioning

        if len(conditioning_from.entries) != 1:
            raise NodeError("conditioning_from must be a single prompt", "conditioning_from")
        extra = conditioning_from.entries[0]
        entries = []
        for entry in conditioning_to.entries:
            if entry.embeds.shape[-1] != extra.embeds.shape[-1]:
                raise NodeError("the two conditionings come from different text encoders", "conditioning_from")
            entries.append(CondEntry(torch.cat([entry.embeds, extra.embeds], dim=1), entry.pooled,
                                     entry.strength, f"{entry.text} {extra.text}".strip()))
        return (Conditioning(entries),)


class ConditioningStrength(Node):
    type_id = "conditioning.strength"
    title = "Conditioning Strength"
    category = "conditioning"
    description = "Sets the weight a prompt gets when several are combined (Conditioning Combine)."
    inputs = (Input("conditioning", CONDITIONING), Input("strength", FLOAT, default=1.0, min=0.0, max=10.0,
                                                         step=0.05))
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning: Any, strength: float) -> tuple[Any]:
        from nodes.values import CondEntry, Conditioning

        return (Conditioning([CondEntry(e.embeds, e.pooled, strength, e.text) for e in conditioning.entries]),)
