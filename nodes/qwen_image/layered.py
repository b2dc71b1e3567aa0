"""Qwen-Image Layered's blank latent in ComfyUI's vocabulary (EmptyQwenImageLayeredLatentImage).

The model splits a picture into RGBA layers (`nodes.qwen_image._layered`): its latent holds the composite
and each layer as frames, [batch, 16, 1 + layers, height / 8, width / 8]. After sampling, Latent Cut drops
the composite (frame 0) and Latent Cut To Batch puts the layers on the batch axis for VAE Decode.
"""

from __future__ import annotations

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import INT, LATENT

#: Pixels per token side: the VAE's 8 times the transformer's 2x2 cells.
TOKEN_SIDE = 16


class EmptyQwenImageLayeredLatent(Node):
    type_id = "qwen_image.empty_layered_latent"
    title = "Empty Qwen Image Layered Latent"
    category = "latent/qwen_image"
    description = ("A blank latent for Qwen-Image Layered: the composite and `layers` layers as frames, each "
                   "width x height. Sample it with the picture to split given to both prompts by Reference "
                   "Latent; then Latent Cut (t, from 1) and Latent Cut To Batch (t, 1) give the layers to VAE "
                   "Decode. Sides are rounded down to multiples of 16 (the model's token), with a warning.")
    inputs = (
        Input("width", INT, default=640, min=16, max=16384, step=16),
        Input("height", INT, default=640, min=16, max=16384, step=16),
        Input("layers", INT, default=3, min=0, max=64, help="Layers to split the picture into (besides the "
                                                            "composite)."),
        Input("batch_size", INT, default=1, min=1, max=64),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, width: int, height: int, layers: int, batch_size: int) -> tuple[dict]:
        import torch

        from nodes.families import by_name

        latent = by_name("qwen-image-layered").latent
        w, h = (max(TOKEN_SIDE, int(v) // TOKEN_SIDE * TOKEN_SIDE) for v in (width, height))
        if (w, h) != (width, height):
            ctx.warn(f"{width}x{height} is not a multiple of {TOKEN_SIDE} (the model's token); using {w}x{h}")
        shape = (int(batch_size), latent.channels, int(layers) + 1, h // latent.downscale, w // latent.downscale)
        return ({"samples": torch.zeros(shape), "downscale": latent.downscale},)
