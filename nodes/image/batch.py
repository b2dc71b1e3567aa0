"""Picture batches as ComfyUI's video graphs use them: a plain picture of one colour, a run of
frames picked out of a batch, a batch repeated, a batch rebatched."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.types import IMAGE, INT

#: The largest picture batch these nodes make or take apart (ComfyUI's bound: 4096 frames).
MAX_BATCH = 4096
#: ComfyUI's MAX_RESOLUTION: current ComfyUI bounds Image From Batch's index by it either way.
MAX_SIDE = 16384


class EmptyImage(Node):
    type_id = "image.empty"
    title = "Empty Image"
    category = "image/batch"
    description = "batch_size pictures of width x height, all one colour (color: 0xRRGGBB, 0 = black)."
    inputs = (
        Input("width", INT, default=512, min=1, max=16384),
        Input("height", INT, default=512, min=1, max=16384),
        Input("batch_size", INT, default=1, min=1, max=MAX_BATCH),
        Input("color", INT, default=0, min=0, max=0xFFFFFF, help="The colour as 0xRRGGBB (16711680 = red)."),
    )
    outputs = (Output("image", IMAGE),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        width, height, batch = (params.get(k) for k in ("width", "height", "batch_size"))
        if not all(isinstance(v, int) for v in (width, height, batch)):
            return FlowSize()
        return FlowSize(batch, width * height, field="batch_size")

    def run(self, ctx: RunContext, width: int, height: int, batch_size: int, color: int) -> tuple[Any]:
        import torch

        channels = torch.tensor([(color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF], dtype=torch.float32)
        return ((channels / 255.0).expand(batch_size, height, width, 3).contiguous(),)


class ImageFromBatch(Node):
    type_id = "image.from_batch"
    title = "Image From Batch"
    category = "image/batch"
    description = ("Picks `length` pictures starting at batch_index (0 = the first, -1 = the last) out of a batch, "
                   "e.g. frames of a video. An index past either end picks the first or the last; a length past "
                   "the end stops there.")
    inputs = (
        Input("image", IMAGE),
        Input("batch_index", INT, default=0, min=-MAX_SIDE, max=MAX_SIDE, help="Negative counts from the end."),
        Input("length", INT, default=1, min=1, max=MAX_BATCH),
    )
    outputs = (Output("image", IMAGE),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        size, length = sizes.get("image"), params.get("length")
        if size is None or not isinstance(length, int):
            return super().output_size(params, sizes)
        return replace(size, batch=min(size.batch, length))

    def run(self, ctx: RunContext, image: Any, batch_index: int, length: int) -> tuple[Any]:
        count = int(image.shape[0])
        start = max(0, min(count - 1, batch_index + count if batch_index < 0 else batch_index))
        stop = start + min(count - start, length)
        return (image[start:stop].clone(),)


class RepeatImageBatch(Node):
    type_id = "image.repeat_batch"
    title = "Repeat Image Batch"
    category = "image/batch"
    description = "Repeats the whole batch `amount` times (a, b repeated 3 times gives a, b, a, b, a, b)."
    inputs = (Input("image", IMAGE), Input("amount", INT, default=1, min=1, max=MAX_BATCH))
    outputs = (Output("image", IMAGE),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        size, amount = sizes.get("image"), params.get("amount")
        if size is None or not isinstance(amount, int):
            return super().output_size(params, sizes)
        return replace(size, batch=size.batch * amount, field="amount")

    def run(self, ctx: RunContext, image: Any, amount: int) -> tuple[Any]:
        return (image.repeat(amount, 1, 1, 1),)


class RebatchImages(Node):
    type_id = "image.rebatch"
    title = "Rebatch Images"
    category = "image/batch"
    description = (
        "Pictures in batches of at most batch_size. In ComfyUI this makes a list of batches that the nodes "
        "after it run one by one; a NodeFlow link carries one batch, so the pictures pass on as one batch "
        "when they fit, and a batch larger than batch_size is refused in one line (pick parts of it with "
        "Image From Batch)."
    )
    inputs = (
        Input("images", IMAGE),
        Input("batch_size", INT, default=1, min=1, max=MAX_BATCH, help="Pictures (or frames) per batch."),
    )
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, images: Any, batch_size: int) -> tuple[Any]:
        count = int(images.shape[0])
        if count > batch_size:
            batches = -(-count // batch_size)
            raise NodeError(f"{count} pictures in batches of {batch_size} would be {batches} batches run one after "
                            f"another (a ComfyUI list); a NodeFlow link carries one batch: use batch_size {count} "
                            "or more", "batch_size")
        return (images,)
