"""Upscale model nodes (ESRGAN, Real-ESRGAN, SwinIR, ... through spandrel)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import IMAGE, INT, STRING
from nodes.models._single_file import file_weights, load_file

#: Link type of a loaded upscale model (ComfyUI's name).
UPSCALE_MODEL = "UPSCALE_MODEL"


class LoadUpscaleModel(Node):
    type_id = "models.load_upscale_model"
    title = "Load Upscale Model"
    category = "models"
    description = (
        "Loads a picture upscaler (ESRGAN, Real-ESRGAN, SwinIR, HAT... anything spandrel knows) "
        "from the model library's upscale_models folders: .safetensors, or a .pth/.pt file only "
        "if it holds plain weights (pickles that could run code are refused)."
    )
    inputs = (Input("model_name", STRING, default="", file="file", model="upscale_models"),)
    outputs = (Output("upscale_model", UPSCALE_MODEL),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The upscaler, sized from its file (header, or size for plain-weight pickles)."""
        return file_weights(params, resolve, "model_name", "upscaler", "upscale_model")

    def run(self, ctx: RunContext, model_name: str) -> tuple[Any]:
        from nodes.image._upscale import load_upscale_model

        return (load_file(ctx, type(self), "model_name", model_name, "upscale model",
                           lambda path, dtype, place: load_upscale_model(path, ctx.device, place)),)


class ImageUpscaleWithModel(Node):
    type_id = "image.upscale_with_model"
    title = "Image Upscale With Model"
    category = "image"
    description = (
        "Enlarges pictures by the model's factor (often 4x). Pictures bigger than 'tile' pixels are "
        "done in overlapping tiles blended across the overlap, so any size fits in memory; out of "
        "memory, the tile size is halved and the picture redone. Shows progress per tile and "
        "stops between tiles when cancelled. Follow with Image Scale By to reach another size."
    )
    inputs = (
        Input("upscale_model", UPSCALE_MODEL),
        Input("image", IMAGE),
        Input("tile", INT, default=512, min=0, max=8192, step=32,
              help="Tile size in input pixels; 0 does the whole picture at once."),
        Input("overlap", INT, default=32, min=0, max=512, step=8, help="Overlap between tiles, in input pixels."),
    )
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, upscale_model: Any, image: Any, tile: int = 512, overlap: int = 32) -> tuple[Any]:
        from nodes.image._upscale import upscale_image

        if tile and overlap * 2 >= tile:
            raise NodeError(f"overlap {overlap} must be less than half the tile size {tile}", "overlap")
        return (upscale_image(ctx, upscale_model, image, int(tile), int(overlap)),)
