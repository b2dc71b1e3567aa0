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
        from nodes.models._weights import weight_count

        name = params.get("clip_name")
        count = weight_count(resolve(name)) if isinstance(name, str) and name.strip() else 0
        return [Weights("clip_vision", "clip_vision", count)] if count else []

    def run(self, ctx: RunContext, clip_name: str) -> tuple[Any]:
        from nodes.models._model_path import model_path
        from nodes.models._precision import compute_dtype
        from nodes.models._store import load_once
        from nodes.vision._clip_vision import load_clip_vision

        path = model_path(ctx, clip_name, "clip_name", "CLIP vision model", folders=False)
        if path.suffix.lower() not in (".safetensors", ".sft"):
            raise NodeError(f"{path.name}: CLIP vision towers load from .safetensors files", "clip_name")
        dtype = compute_dtype(ctx.device)
        key = ("clip_vision", str(path.resolve()), str(dtype), ctx.device)
        return (load_once(ctx, type(self), {"clip_name": path}, key,
                          lambda place: load_clip_vision(path, dtype, place)),)


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
