"""CLIP vision, in ComfyUI's vocabulary: Load CLIP Vision (CLIPVisionLoader) and CLIP Vision Encode
(CLIPVisionEncode).

Image-conditioned models read a picture through a CLIP vision tower beside their text encoder: Wan
2.1's image-to-video transformers take its penultimate states as image tokens (Wan Image To Video's
clip_vision_output). The machinery is `nodes.vision._clip_vision`; the values `nodes.media`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import CLIP_VISION, CLIP_VISION_OUTPUT, IMAGE, STRING
from nodes.models._single_file import file_weights, load_file


class LoadClipVision(Node):
    type_id = "vision.load_clip_vision"
    title = "Load CLIP Vision"
    category = "models"
    description = (
        "Loads a CLIP vision tower (clip_vision_h.safetensors and the other ViT-L/H/bigG files of the "
        "clip_vision folder, in transformers' or OpenCLIP's names) for CLIP Vision Encode."
    )
    inputs = (Input("clip_name", STRING, default="", file="file", model="clip_vision"),)
    outputs = (Output("clip_vision", CLIP_VISION),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The tower, sized from its file's header."""
        return file_weights(params, resolve, "clip_name", "clip_vision", "clip_vision")

    def run(self, ctx: RunContext, clip_name: str) -> tuple[Any]:
        from nodes.vision._clip_vision import load_clip_vision

        return (load_file(ctx, type(self), "clip_name", clip_name, "CLIP vision model", load_clip_vision,
                           suffixes=(".safetensors", ".sft")),)


class ClipVisionEncode(Node):
    type_id = "vision.clip_vision_encode"
    title = "CLIP Vision Encode"
    category = "conditioning"
    description = (
        "What a CLIP vision tower sees in pictures: its states after the second-to-last layer (Wan 2.1's "
        "image tokens), after the last, and the projected image embeds. The pictures are resized to the "
        "tower's square (224 px) as ComfyUI does: 'center' fits the short side and crops the middle, "
        "'none' squeezes the whole picture in."
    )
    inputs = (
        Input("clip_vision", CLIP_VISION),
        Input("image", IMAGE),
        Input("crop", STRING, default="center", choices=("center", "none"),
              help="center: keep the middle square; none: squeeze the whole picture to a square."),
    )
    outputs = (Output("clip_vision_output", CLIP_VISION_OUTPUT),)

    def run(self, ctx: RunContext, clip_vision: Any, image: Any, crop: str) -> tuple[Any]:
        from nodes.media import ClipVision
        from nodes.vision._clip_vision import encode

        if not isinstance(clip_vision, ClipVision):
            raise NodeError("this needs a CLIP vision tower (Load CLIP Vision)", "clip_vision")
        if image.ndim != 4 or image.shape[-1] < 3 or min(image.shape[:3]) < 1:
            raise NodeError(f"the pictures are {tuple(image.shape)}, not a [batch, height, width, 3] IMAGE", "image")
        return (encode(clip_vision, image, crop),)
