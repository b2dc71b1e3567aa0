"""SD3 conditioning nodes, in ComfyUI's vocabulary (CLIPTextEncodeSD3)."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CLIP, CONDITIONING, STRING
from nodes.families import LONG_PROMPT_HELP, LONG_PROMPTS


class TextEncodeSD3(Node):
    type_id = "sd3.text_encode"
    title = "Text Encode (SD3)"
    category = "conditioning/sd3"
    description = ("Encodes a prompt for SD3 / SD3.5 with a text for each of its encoders (CLIP-L, CLIP-G, "
                   "T5-XXL), as diffusers' prompt / prompt_2 / prompt_3. Text Encode gives all three the "
                   "same text.")
    inputs = (
        Input("clip", CLIP),
        Input("clip_l", STRING, default="", multiline=True),
        Input("clip_g", STRING, default="", multiline=True),
        Input("t5xxl", STRING, default="", multiline=True),
        Input("empty_padding", STRING, default="none", choices=("none", "empty_prompt"),
              help="ComfyUI's option for empty texts; NodeFlow encodes an empty text as the pipeline "
                   "does (padding tokens), which is 'empty_prompt'."),
        Input("long_prompt", STRING, default="cut", choices=LONG_PROMPTS, help=LONG_PROMPT_HELP),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, clip: Any, clip_l: str, clip_g: str, t5xxl: str,
            empty_padding: str = "none", long_prompt: str = "cut") -> tuple[Any]:
        from nodes.values import Conditioning

        spec = clip.spec
        names = {e.comfy_name for e in spec.encoders} if spec is not None else set()
        if names != {"clip_l", "clip_g", "t5xxl"}:
            raise NodeError("Text Encode (SD3) needs SD3's three text encoders (e.g. from Triple CLIP Loader)",
                            "clip")
        if empty_padding == "none" and not all((clip_l, clip_g, t5xxl)):
            ctx.warn("an empty text is encoded as the pipeline encodes it (padding tokens), not left out as "
                     "ComfyUI's empty_padding 'none' does")
        texts = {"clip_l": clip_l, "clip_g": clip_g, "t5xxl": t5xxl}
        return (Conditioning([spec.module().encode(ctx, clip, t5xxl, texts, long_prompt=long_prompt)]),)
