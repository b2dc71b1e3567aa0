"""FLUX.3 [klein] in ComfyUI's vocabulary: Flux3LayoutPrompt (a caption with its boxes) and
ReferenceMultiLatent (reference pictures for an edit, and the empty latent of the first one's size)."""

from __future__ import annotations

import math
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CONDITIONING, FLOAT, IMAGE, LATENT, STRING, VAE
from nodes.image.bounding_boxes import ARRAY

#: References FLUX.3 [klein] takes at most (BFL's limit; the pipeline's prompt upsampler's too).
MAX_REFERENCES = 10
#: How the pictures are sized: "resize" scales each to about `megapixels`.
RESOLUTIONS = ("resize",)


class Flux3LayoutPrompt(Node):
    type_id = "flux3.layout_prompt"
    title = "FLUX.3 Layout Prompt"
    category = "conditioning/flux3"
    description = ("A FLUX.3 [klein] prompt that places things: the caption, citing each box as <obj_1>, "
                   "<obj_2>, <text_1> (in the order drawn; uncited ones are appended), then the table of the boxes "
                   "from Create Bounding Boxes on a 0..1000 grid. When the caption cites a reference picture "
                   "(<ref_image_0>), the boxes are items of that picture edited in place.")
    inputs = (
        Input("prompt", STRING, default="", multiline=True),
        Input("element", ARRAY, optional=True, help="Create Bounding Boxes' elements."),
    )
    outputs = (Output("prompt", STRING),)

    def run(self, ctx: RunContext, prompt: str, element: Any = None) -> tuple[str]:
        from nodes.flux3._layout import LayoutError, layout_prompt

        try:
            return (layout_prompt(prompt, element),)
        except LayoutError as exc:
            raise NodeError(str(exc), "element") from None


class ReferenceMultiLatent(Node):
    type_id = "flux3.reference_multi_latent"
    title = "Reference Multi Latent"
    category = "conditioning/flux3"
    description = ("Reference pictures for a FLUX.3 [klein] edit (the caption cites them as <ref_image_0>, "
                   "<ref_image_1>, ... in this order; each picture of a batch is one): each is scaled to about "
                   "'megapixels' (sides multiples of the model's 16-pixel token, Lanczos), encoded with the VAE "
                   "and given to both prompts. The empty latent has the first reference's size.")
    inputs = (
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING, optional=True),
        Input("vae", VAE, optional=True, help="Encodes the pictures; needed when there are any."),
        Input("resolution", STRING, default="resize", choices=RESOLUTIONS),
        Input("megapixels", FLOAT, default=1.0, min=0.01, max=16.0, step=0.01),
        *(Input(f"image{n}", IMAGE, optional=True) for n in range(MAX_REFERENCES)),
    )
    outputs = (Output("positive", CONDITIONING), Output("negative", CONDITIONING), Output("empty_latent", LATENT))

    def run(self, ctx: RunContext, positive: Any, resolution: str, megapixels: float, negative: Any = None,
            vae: Any = None, **images: Any) -> tuple[Any, Any, dict]:
        from nodes.image.sizes import MEGAPIXEL, nearest_multiple, resize
        from nodes.latent.latents import EmptyLatent
        from nodes.vae.codec import encode
        from nodes.values import Conditioning

        pictures = [p[i:i + 1] for _, p in sorted(images.items(), key=lambda kv: int(kv[0][5:])) if p is not None
                    for i in range(p.shape[0])]
        if not pictures:
            raise NodeError("no reference picture: connect image0", "image0")
        if len(pictures) > MAX_REFERENCES:
            raise NodeError(f"{len(pictures)} reference pictures: FLUX.3 takes at most {MAX_REFERENCES}", "image0")
        if vae is None:
            raise NodeError("the reference pictures need the VAE to become latents", "vae")
        if vae.latent_channels != 128:
            raise NodeError(f"this VAE makes {vae.latent_channels}-channel latents; FLUX.3 takes Flux.2's VAE "
                            "(128 channels)", "vae")
        step = vae.scale_factor
        references = []
        for picture in pictures:
            h, w = picture.shape[1:3]
            scale = math.sqrt(megapixels * MEGAPIXEL / (w * h))
            width, height = nearest_multiple(w * scale, step), nearest_multiple(h * scale, step)
            if (width, height) != (w, h):
                picture = resize(ctx, picture, width, height, "lanczos", field="megapixels")
            references.append(encode(ctx, picture, vae))
        first = references[0]["samples"]
        empty = EmptyLatent().run(ctx, first.shape[-1] * step, first.shape[-2] * step, 1, vae)[0]

        def given(conditioning: Any) -> Any:
            return Conditioning([e.with_(references=tuple(e.references) + tuple(references))
                                 for e in conditioning.entries])

        return given(positive), given(negative) if negative is not None else None, empty
