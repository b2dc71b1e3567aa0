"""T5 Tokenizer Options (ComfyUI's T5TokenizerOptions): how many padding tokens a masked T5 prompt keeps."""

from __future__ import annotations

import dataclasses
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CLIP, INT


class T5TokenizerOptions(Node):
    type_id = "conditioning.t5_tokenizer_options"
    title = "T5 Tokenizer Options"
    category = "conditioning/text"
    description = ("For models that mask T5's padding (Chroma): the prompt keeps min_padding padding tokens "
                   "visible after its last token, and at least min_length tokens in all. Without this node the "
                   "pipeline's rule holds (one padding token, ChromaPipeline's and Chroma's official setting).")
    inputs = (
        Input("clip", CLIP),
        Input("min_padding", INT, default=0, min=0, max=10000),
        Input("min_length", INT, default=0, min=0, max=10000),
    )
    outputs = (Output("clip", CLIP),)

    def run(self, ctx: RunContext, clip: Any, min_padding: int, min_length: int) -> tuple[Any]:
        spec = clip.spec
        if spec is None or not any("T5" in e.model for e in spec.encoders):
            raise NodeError("this CLIP has no T5 text encoder (T5 Tokenizer Options are for Flux, SD3, Chroma...)",
                            "clip")
        return (dataclasses.replace(clip, t5_options=(int(min_padding), int(min_length))),)
