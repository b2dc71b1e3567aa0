"""Text-encoder options: clip skip, and SDXL's two prompts with its size and crop conditioning."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CLIP, CONDITIONING, INT, STRING
from nodes.conditioning.prompts import PROMPT_SYNTAX_HELP


class ClipSetLastLayer(Node):
    type_id = "conditioning.clip_set_last_layer"
    title = "CLIP Set Last Layer"
    category = "conditioning"
    infotext = {"stop_at_clip_layer": "clip_skip"}
    description = (
        "Clip skip: prompts are read from an earlier layer of the text encoder. -1 is the last "
        "layer (SD 1.x's default), -2 the one before (what many anime models want; SDXL's "
        "default)... Same as diffusers' clip_skip = -stop_at_clip_layer - 1 for SD 1.x/2.x "
        "(the chosen layer goes through the final layer norm, as there) and "
        "-stop_at_clip_layer - 2 for SDXL."
    )
    inputs = (
        Input("clip", CLIP),
        Input("stop_at_clip_layer", INT, default=-1, min=-24, max=-1),
    )
    outputs = (Output("clip", CLIP),)

    def run(self, ctx: RunContext, clip: Any, stop_at_clip_layer: int) -> tuple[Any]:
        import dataclasses

        layers = clip.text_encoder.config.num_hidden_layers
        if -stop_at_clip_layer > layers + 1:  # -(layers + 1) is the token embeddings themselves
            raise NodeError(f"this text encoder has {layers} layers; use -1 to -{layers + 1}",
                            "stop_at_clip_layer")
        return (dataclasses.replace(clip, last_layer=int(stop_at_clip_layer)),)


class TextEncodeSDXL(Node):
    type_id = "conditioning.text_encode_sdxl"
    title = "Text Encode SDXL"
    category = "conditioning"
    description = (
        "SDXL prompts with its size conditioning as inputs: text_g goes to the large OpenCLIP "
        "encoder and text_l to CLIP-L (diffusers' prompt_2 and prompt). width/height tell the "
        "model the size of the pictures it learnt from (bigger looks more detailed), crop_w/crop_h "
        "where such a picture was cropped (0, 0 = centred, uncropped), target_width/height the "
        "size wanted; diffusers uses the output size for both and 0, 0. " + PROMPT_SYNTAX_HELP
    )
    inputs = (
        Input("clip", CLIP),
        Input("width", INT, default=1024, min=0, max=16384),
        Input("height", INT, default=1024, min=0, max=16384),
        Input("crop_w", INT, default=0, min=0, max=16384),
        Input("crop_h", INT, default=0, min=0, max=16384),
        Input("target_width", INT, default=1024, min=0, max=16384),
        Input("target_height", INT, default=1024, min=0, max=16384),
        Input("text_g", STRING, default="", multiline=True),
        Input("text_l", STRING, default="", multiline=True),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, clip: Any, width: int, height: int, crop_w: int, crop_h: int,
            target_width: int, target_height: int, text_g: str, text_l: str) -> tuple[Any]:
        from nodes.conditioning._prompt_encode import encode_prompt
        from nodes.values import Conditioning

        if clip.text_encoder_2 is None:
            raise NodeError("this is not an SDXL text encoder (it has one encoder); use Text Encode", "clip")
        entry = encode_prompt(ctx, clip, text_l, "cut", text_2=text_g)
        size = (int(height), int(width), int(crop_h), int(crop_w), int(target_height), int(target_width))
        return (Conditioning([entry.with_(size=size)]),)
