"""Output nodes that show pictures without saving them: a before/after pair, a mask."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import IMAGE, MASK


class ImageCompare(Node):
    type_id = "image.compare"
    title = "Image Compare"
    category = "image"
    description = ("Output node: shows two pictures (the first of each batch) in the output viewer's compare "
                   "mode, 'image_a' left of the divider and 'image_b' right of it. Nothing is saved.")
    is_output = True
    inputs = (Input("image_a", IMAGE, optional=True), Input("image_b", IMAGE, optional=True))
    outputs = ()

    def run(self, ctx: RunContext, image_a: Any = None, image_b: Any = None) -> dict:
        from nodeflow.core.files import COMPARE_INFO
        from nodes._tensors import image_to_pils

        shown = [(side, image) for side, image in (("a", image_a), ("b", image_b)) if image is not None]
        if not shown:
            raise NodeError("nothing to compare: link image_a and image_b", "image_a")
        pils = []
        for side, image in shown:
            pil = image_to_pils(image[:1, ..., :3], "truncate")[0]
            if len(shown) == 2:
                pil.info[COMPARE_INFO] = side
            pils.append(pil)
        ctx.show_images(pils)
        return {}


class MaskPreview(Node):
    type_id = "mask.preview"
    title = "Preview Mask"
    category = "mask"
    description = "Output node: shows masks as grey pictures (1 = white) in the output viewer, without saving."
    is_output = True
    inputs = (Input("mask", MASK),)
    outputs = (Output("mask", MASK),)

    def run(self, ctx: RunContext, mask: Any) -> tuple[Any]:
        from nodes._tensors import image_to_pils

        bhw = mask if mask.ndim == 3 else mask[None]
        ctx.show_images(image_to_pils(bhw[..., None].expand(-1, -1, -1, 3), "truncate"))
        return (mask,)
