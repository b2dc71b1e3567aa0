"""Generate LTX2 Prompt (ComfyUI's TextGenerateLTX2Prompt): LTX-2's prompt enhancement with its own Gemma.

LTX-2.0 / 2.3's Gemma 3 text encoder doubles as its prompt writer: the user's words go in a chat whose
system turn is LTX-2's own instructions (Lightricks' text-to-video system prompt, which diffusers ships
as `T2V_DEFAULT_SYSTEM_PROMPT`), laid out in Gemma's turns as ComfyUI's node lays them out:

    <bos><start_of_turn>system\\n{system}<end_of_turn>\\n<start_of_turn>user\\n\\nUser Raw Input Prompt: {prompt}.
    <end_of_turn>\\n<start_of_turn>model\\n

Gemma writes until its end of turn, through Generate Text's path (`nodes.conditioning._generate`:
seeded, bounded in tokens and seconds); reasoning tags a model may write are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import AUDIO, BOOLEAN, CLIP, FLOAT, IMAGE, INT, SEED_MAX, STRING

#: Gemma's chat turns: a turn opens with START + role and a newline, and closes with END.
START, END = "<start_of_turn>", "<end_of_turn>"
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)


def chat(bos: str, system: str, prompt: str) -> str:
    """The chat Gemma continues (see module doc)."""
    return (f"{bos}{START}system\n{system}{END}\n{START}user\n\nUser Raw Input Prompt: {prompt}.{END}\n"
            f"{START}model\n")


def cleaned(text: str) -> str:
    """The written prompt without reasoning (closed, or cut off after its last close) or stray tags."""
    text = _THINKING.sub("", text)
    text = text.rsplit("</think>", 1)[-1]
    return re.sub(r"</?think>", "", text).strip()


class TextGenerateLTX2Prompt(Node):
    type_id = "ltx2.generate_prompt"
    title = "Generate LTX2 Prompt"
    category = "conditioning/ltx2"
    description = ("Expands a short idea into the detailed scene, motion and sound description LTX-2 was trained on, "
                   "written by LTX-2's own Gemma 3 text encoder following Lightricks' instructions (ComfyUI's Generate "
                   "LTX2 Prompt): up to max_length new tokens, greedy with sampling_mode off, sampled and seeded "
                   "with it on; stops after max_seconds. Reads text only.")
    inputs = (
        Input("clip", CLIP, help="LTX-2's text encoder (Load LTXV Audio Text Encoder)."),
        Input("prompt", STRING, default="", multiline=True),
        Input("image", IMAGE, optional=True, help="not read: NodeFlow's LTX-2 prompt writer reads text only"),
        Input("video", IMAGE, optional=True, help="not read: LTX 2.5's Gemma 4 writer reads it, Gemma 3 does not"),
        Input("audio", AUDIO, optional=True, help="not read: LTX 2.5's Gemma 4 writer reads it, Gemma 3 does not"),
        Input("max_length", INT, default=512, min=1, max=32768, help="new tokens at most"),
        Input("sampling_mode", STRING, default="on", choices=("on", "off"), help="off: greedy, the options unused"),
        Input("temperature", FLOAT, default=0.7, min=0.01, max=2.0, step=0.01),
        Input("top_k", INT, default=64, min=0, max=1000, help="0: no limit"),
        Input("top_p", FLOAT, default=0.95, min=0.0, max=1.0, step=0.01),
        Input("min_p", FLOAT, default=0.05, min=0.0, max=1.0, step=0.01),
        Input("repetition_penalty", FLOAT, default=1.05, min=0.0, max=5.0, step=0.01),
        Input("seed", INT, default=0, min=0, max=SEED_MAX, seed=True),
        Input("presence_penalty", FLOAT, default=0.0, min=0.0, max=5.0, step=0.01,
              help="taken once from every token already written"),
        Input("thinking", BOOLEAN, default=False, help="Gemma 3 has no thinking mode: unused"),
        Input("use_default_template", BOOLEAN, default=True,
              help="unused: the prompt is always put in LTX-2's chat (as ComfyUI's node does)"),
        Input("max_seconds", FLOAT, default=300.0, min=1.0, max=3600.0, help="wall time at most"),
    )
    outputs = (Output("generated_text", STRING),)

    def run(self, ctx: RunContext, clip: Any, prompt: str, max_length: int, sampling_mode: str,
            temperature: float, top_k: int, top_p: float, min_p: float, repetition_penalty: float, seed: int,
            presence_penalty: float, thinking: bool, use_default_template: bool, max_seconds: float,
            image: Any = None, video: Any = None, audio: Any = None) -> tuple[str]:
        from diffusers.pipelines.ltx2.utils import T2V_DEFAULT_SYSTEM_PROMPT

        from nodes.conditioning._generate import Sampling, generate

        for value, field in ((image, "image"), (video, "video"), (audio, "audio")):
            if value is not None:
                raise NodeError(f"NodeFlow's Generate LTX2 Prompt reads text only; unlink '{field}'", field)
        tokenizer = getattr(clip, "tokenizer", None)
        vocabulary = tokenizer.get_vocab() if tokenizer is not None and hasattr(tokenizer, "get_vocab") else {}
        if START not in vocabulary or END not in vocabulary:
            raise NodeError("this text encoder is not a Gemma chat model (its tokenizer has no <start_of_turn>): "
                            "connect LTX-2's Gemma 3 text encoder", "clip")
        sampling = Sampling(temperature, top_k, top_p, min_p, repetition_penalty, presence_penalty, seed) \
            if sampling_mode == "on" else None
        text = chat(tokenizer.bos_token or "", T2V_DEFAULT_SYSTEM_PROMPT.strip(), prompt)
        written = generate(ctx, clip, text, "", max_tokens=max_length, sampling=sampling, thinking=False,
                           template=False, seconds=max_seconds, stop=(END,))
        return (cleaned(written),)
