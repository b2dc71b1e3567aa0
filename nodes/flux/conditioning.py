"""Flux conditioning nodes, in ComfyUI's vocabulary (FluxGuidance, CLIPTextEncodeFlux,
ReferenceLatent, FluxKontextMultiReferenceLatentMethod, FluxKontextImageScale)."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CLIP, CONDITIONING, FLOAT, IMAGE, LATENT, STRING
from nodes.families import LONG_PROMPT_HELP, LONG_PROMPTS

_GUIDANCE_HELP = ("Flux dev's distilled guidance (the pipelines' guidance_scale): how strongly the model "
                  "follows the prompt, in one model call. 3.5 is the usual value; Fill uses about 30. "
                  "Models without a guidance input (schnell) ignore it.")


class FluxGuidance(Node):
    type_id = "flux.guidance"
    title = "Flux Guidance"
    category = "conditioning/flux"
    description = "Sets the guidance a Flux dev model is given with this prompt. " + _GUIDANCE_HELP
    inputs = (Input("conditioning", CONDITIONING),
              Input("guidance", FLOAT, default=3.5, min=0.0, max=100.0, step=0.1, help=_GUIDANCE_HELP))
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning: Any, guidance: float) -> tuple[Any]:
        from nodes.values import Conditioning

        return (Conditioning([e.with_(guidance=float(guidance)) for e in conditioning.entries]),)


class TextEncodeFlux(Node):
    type_id = "flux.text_encode"
    title = "Text Encode (Flux)"
    category = "conditioning/flux"
    description = ("Encodes a prompt for Flux with a text for each encoder: clip_l (CLIP-L's pooled summary) "
                   "and t5xxl (T5's token states, what the picture mostly follows), plus the guidance. "
                   "Text Encode gives both encoders the same text.")
    inputs = (
        Input("clip", CLIP),
        Input("clip_l", STRING, default="", multiline=True),
        Input("t5xxl", STRING, default="", multiline=True),
        Input("guidance", FLOAT, default=3.5, min=0.0, max=100.0, step=0.1, help=_GUIDANCE_HELP),
        Input("long_prompt", STRING, default="cut", choices=LONG_PROMPTS, help=LONG_PROMPT_HELP),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, clip: Any, clip_l: str, t5xxl: str, guidance: float,
            long_prompt: str = "cut") -> tuple[Any]:
        from nodes.values import Conditioning

        spec = clip.spec
        names = {e.comfy_name for e in spec.encoders} if spec is not None else set()
        if not {"clip_l", "t5xxl"} <= names:
            raise NodeError("Text Encode (Flux) needs Flux's text encoders (CLIP-L and T5-XXL, e.g. from "
                            "Dual CLIP Loader with type flux)", "clip")
        entry = spec.module().encode(ctx, clip, t5xxl, {"clip_l": clip_l, "t5xxl": t5xxl}, long_prompt=long_prompt)
        return (Conditioning([entry.with_(guidance=float(guidance))]),)


class ReferenceLatent(Node):
    type_id = "flux.reference_latent"
    title = "Reference Latent"
    category = "conditioning/flux"
    description = ("Adds a picture (its latent, from VAE Encode) that a Flux Kontext model looks at while "
                   "drawing: the edit instruction in the prompt applies to it. Several Reference Latent "
                   "nodes add several pictures, each seen at its own size.")
    inputs = (Input("conditioning", CONDITIONING), Input("latent", LATENT, optional=True))
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning: Any, latent: Any = None) -> tuple[Any]:
        from nodes.values import Conditioning

        if latent is None:
            return (conditioning,)
        return (Conditioning([e.with_(references=tuple(e.references) + (latent,)) for e in conditioning.entries]),)


#: ComfyUI's reference_latents_method values; "uxo/uno" is stored as "uxo", as ComfyUI stores it.
REFERENCE_METHODS = ("offset", "index", "uxo/uno", "index_timestep_zero")


class ReferenceMethod(Node):
    type_id = "flux.reference_method"
    title = "Edit Model Reference Method"
    category = "conditioning/flux"
    description = ("How several reference pictures (Reference Latent) are laid out for the model: offset "
                   "(Kontext's: side by side in one extra frame), index (each in its own frame) or uxo/uno "
                   "(diagonally past the picture, in its frame). With one picture, offset is "
                   "FluxKontextPipeline's layout. Which ones a model knows is its family's.")
    inputs = (Input("conditioning", CONDITIONING),
              Input("reference_latents_method", STRING, default="offset", choices=REFERENCE_METHODS))
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning: Any, reference_latents_method: str) -> tuple[Any]:
        from nodes.values import Conditioning

        method = "uxo" if reference_latents_method == "uxo/uno" else reference_latents_method
        return (Conditioning([e.with_(reference_method=method) for e in conditioning.entries]),)


class KontextImageScale(Node):
    type_id = "flux.kontext_image_scale"
    title = "Flux Kontext Image Scale"
    category = "image/flux"
    description = ("Resizes a picture to the Kontext training resolution (about one megapixel) whose aspect "
                   "ratio is nearest, as FluxKontextPipeline does before encoding it (Lanczos).")
    inputs = (Input("image", IMAGE),)
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image: Any) -> tuple[Any]:
        from diffusers.pipelines.flux.pipeline_flux_kontext import PREFERRED_KONTEXT_RESOLUTIONS
        from PIL import Image

        from nodes._tensors import image_to_pils, pil_to_image

        height, width = int(image.shape[1]), int(image.shape[2])
        ratio = width / height
        _, w, h = min((abs(ratio - w / h), w, h) for w, h in PREFERRED_KONTEXT_RESOLUTIONS)
        import torch

        pils = [p.resize((w, h), Image.Resampling.LANCZOS) for p in image_to_pils(image)]
        return (torch.cat([pil_to_image(p) for p in pils]),)
