"""Qwen-Image Edit prompts in ComfyUI's vocabulary (TextEncodeQwenImageEdit, TextEncodeQwenImageEditPlus),
written to match diffusers' QwenImageEditPipeline and QwenImageEditPlusPipeline (`nodes.qwen_image._edit`).
Each encodes as the text encoder's family does: Text Encode (Qwen-Image Edit) by its adapter's
`encode_edit` (Qwen-Image's, LongCat-Image's), Text Encode (Qwen-Image Edit Plus) by its
`encode_edit_plus` (Qwen-Image's; Krea 2's style reference, as ComfyUI runs the node with a krea2
text encoder).
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CLIP, CONDITIONING, IMAGE, STRING, VAE


class TextEncodeQwenImageEditPlus(Node):
    type_id = "qwen_image.text_encode_edit_plus"
    title = "Text Encode (Qwen-Image Edit Plus)"
    category = "conditioning/qwen_image"
    description = ("Encodes an edit instruction with up to three pictures for Qwen-Image Edit (2509, 2511), or a "
                   "style reference for Krea 2: the text encoder (Qwen2.5-VL, Qwen3-VL) reads the prompt with the "
                   "pictures (about 384x384 each), and the pictures' latents (about 1024x1024, from the VAE) are "
                   "given to the model to edit from. Use the same pictures for the negative prompt, as the "
                   "pipeline does.")
    inputs = (
        Input("clip", CLIP),
        Input("prompt", STRING, default="", multiline=True),
        Input("vae", VAE, optional=True, help="Encodes the pictures as the model's reference latents."),
        Input("image1", IMAGE, optional=True),
        Input("image2", IMAGE, optional=True),
        Input("image3", IMAGE, optional=True),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, clip: Any, prompt: str, vae: Any = None, image1: Any = None, image2: Any = None,
            image3: Any = None) -> tuple[Any]:
        from nodes.values import Conditioning

        spec = clip.spec
        edit = getattr(spec.module(), "encode_edit_plus", None) if spec is not None else None
        if edit is None:
            raise NodeError("Text Encode (Qwen-Image Edit Plus) needs the text encoder of a family that takes "
                            "several pictures this way: Qwen-Image (Qwen2.5-VL) or Krea 2 (Qwen3-VL)", "clip")
        pictures = [p for p in (image1, image2, image3) if p is not None]
        if pictures and vae is None:
            raise NodeError("the pictures need the VAE to become the model's reference latents", "vae")
        return (Conditioning([edit(ctx, clip, vae, prompt, pictures)]),)


class TextEncodeQwenImageEdit(Node):
    type_id = "qwen_image.text_encode_edit"
    title = "Text Encode (Qwen-Image Edit)"
    category = "conditioning/qwen_image"
    description = ("Encodes an edit instruction with one picture for the first Qwen-Image Edit or LongCat-Image "
                   "Edit (by the text encoder's family, each as its pipeline does): Qwen2.5-VL reads the prompt "
                   "with the picture, and its latents (from the VAE) are given to the model to edit from, both at "
                   "about 1024x1024. Use the same picture for the negative prompt.")
    inputs = (
        Input("clip", CLIP),
        Input("prompt", STRING, default="", multiline=True),
        Input("vae", VAE, optional=True, help="Encodes the picture as the model's reference latent."),
        Input("image", IMAGE, optional=True),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, clip: Any, prompt: str, vae: Any = None, image: Any = None) -> tuple[Any]:
        from nodes.values import Conditioning

        spec = clip.spec
        edit = getattr(spec.module(), "encode_edit", None) if spec is not None else None
        if edit is None:
            raise NodeError("Text Encode (Qwen-Image Edit) needs the text encoder (Qwen2.5-VL) of a family that edits "
                            "from one picture: Qwen-Image or LongCat-Image", "clip")
        if image is not None and vae is None:
            raise NodeError("the picture needs the VAE to become the model's reference latent", "vae")
        return (Conditioning([edit(ctx, clip, vae, prompt, [] if image is None else [image])]),)
