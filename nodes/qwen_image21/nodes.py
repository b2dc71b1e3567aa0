"""Qwen Image 2.1 in ComfyUI's vocabulary: TextEncodeQwenImage21 and QwenImage21Cache, written to match
diffusers' QwenImage21Pipeline (see `nodes.qwen_image21._prompt` and `_cache`).

Text Encode (Qwen Image 2.1) encodes the prompt and the negative prompt with up to 16 reference
pictures, as the pipeline does: each picture sized to about resolution x resolution pixels, shown
to Qwen3-VL in the prompt's picture slots and, with a VAE, encoded to latents (the posterior's
mode, normalised per channel: (mean - m) / s) that fill those slots in the transformer's sequence.
Both prompts carry the same references. Its latent is an empty one of the first picture's size
(the pipeline sizes its picture by the picture, ComfyUI's node by the first one).
"""

from __future__ import annotations

import re
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CLIP, CONDITIONING, IMAGE, INT, LATENT, MODEL, STRING, VAE

#: ComfyUI's growable `images` slot: image_1 ... image_16.
PICTURES = 16
#: QwenImage21Cache's choices (their meaning: `nodes.qwen_image21._cache`).
_CACHE_DEVICES = ("auto", "gpu", "cpu", "off")
_CACHE_DTYPES = ("default", "int8", "int4")


class TextEncodeQwenImage21(Node):
    type_id = "qwen_image21.text_encode"
    title = "Text Encode (Qwen Image 2.1)"
    category = "conditioning/qwen_image"
    description = ("Encodes a prompt and a negative prompt for Qwen Image 2.1, with up to 16 reference pictures "
                   "for edits (image_1 is the picture edited; refer to them in the prompt as <image1>, <image2>, "
                   "...). Qwen3-VL reads the prompt with the pictures; with a VAE, the pictures' latents are given "
                   "to the model too. Sample the latent it returns: it has the first picture's size.")
    inputs = (
        Input("clip", CLIP),
        Input("prompt", STRING, default="", multiline=True),
        Input("negative_prompt", STRING, default="", multiline=True),
        Input("vae", VAE, optional=True, help="Encodes the pictures as the model's reference latents; without it "
                                              "they reach the model through the text encoder only."),
        Input("resolution", INT, default=1024, min=0, max=4096, step=32,
              help="Pictures are resized to about this many pixels a side (aspect kept, sides multiples of 32); "
                   "0 keeps their own size, rounded to multiples of 32."),
        *(Input(f"image_{n}", IMAGE, optional=True) for n in range(1, PICTURES + 1)),
    )
    outputs = (Output("positive", CONDITIONING), Output("negative", CONDITIONING), Output("latent", LATENT))

    def run(self, ctx: RunContext, clip: Any, prompt: str, negative_prompt: str, resolution: int,
            vae: Any = None, **images: Any) -> tuple[Any, Any, dict]:
        from nodes.latent.latents import EmptyLatent
        from nodes.values import Conditioning

        spec = clip.spec
        if spec is None or spec.pipeline != "QwenImage21Pipeline":
            raise NodeError("Text Encode (Qwen Image 2.1) needs Qwen Image 2.1's text encoder (Qwen3-VL); this CLIP "
                            f"is {spec.title if spec else 'a Stable Diffusion one'}", "clip")
        pictures = _pictures(images, prompt, negative_prompt)
        sized = [_sized(p, resolution) for p in pictures]
        references = tuple(_reference(vae, p) for p in sized) if vae is not None else ()
        positive = _entry(clip, prompt, sized, references)
        negative = _entry(clip, negative_prompt, sized, references)
        width, height = sized[0].size if sized else (resolution or 1024,) * 2
        (latent,) = EmptyLatent().run(ctx, width, height, 1, vae)  # without a VAE the sampler fits it to its model
        return Conditioning([positive]), Conditioning([negative]), latent


def _pictures(images: dict[str, Any], *prompts: str) -> list[Any]:
    """The connected pictures, image_1 on without gaps, and each one a prompt names (<imageN>) there."""
    count = max((n for n in range(1, PICTURES + 1) if images.get(f"image_{n}") is not None), default=0)
    for n in range(1, count + 1):
        if images.get(f"image_{n}") is None:
            raise NodeError(f"image_{count} is connected but image_{n} is not: connect the pictures from image_1 on",
                            f"image_{n}")
    for text in prompts:
        for tag in re.findall(r"<image(\d+)>", text):
            if not 1 <= int(tag) <= PICTURES:
                raise NodeError(f"the prompt refers to <image{tag}>; the pictures are image_1 to image_{PICTURES}",
                                "prompt")
            if int(tag) > count:
                raise NodeError(f"the prompt refers to <image{tag}> but image_{tag} is not connected",
                                f"image_{tag}")
    return [images[f"image_{n}"] for n in range(1, count + 1)]


def _sized(image: Any, resolution: int) -> Any:
    """The first picture of an IMAGE as the pipeline uses it: RGBA, resized to its picture size."""
    from diffusers.image_processor import VaeImageProcessor

    from nodes._tensors import image_to_pils
    from nodes.qwen_image21._prompt import picture_size

    picture = image_to_pils(image)[0].convert("RGBA")
    width, height = picture_size(picture.width, picture.height, resolution)
    return VaeImageProcessor(vae_scale_factor=16).resize(picture, height=height, width=width)


def _reference(vae: Any, picture: Any) -> dict:
    """A sized picture's latent as the pipeline gives it to the transformer: the VAE posterior's mode,
    (mean - latents_mean) / latents_std."""
    import torch
    from diffusers.image_processor import VaeImageProcessor

    processor = VaeImageProcessor(vae_scale_factor=vae.scale_factor, vae_latent_channels=vae.latent_channels)
    pixels = processor.preprocess(picture, height=picture.height, width=picture.width)
    with torch.no_grad():
        mean, _ = vae.encode_dist(pixels.to(device=vae.device, dtype=vae.dtype))
    numbers = vae.numbers()
    if numbers.get("latents_mean") is None:
        raise NodeError("this VAE is not Qwen Image 2.1's (it has no per-channel latent statistics)", "vae")
    shape = (1, mean.shape[1], 1, 1)
    m = torch.tensor(numbers["latents_mean"]).view(shape).to(mean.device, mean.dtype)
    s = torch.tensor(numbers["latents_std"]).view(shape).to(mean.device, mean.dtype)
    return {"samples": (mean - m) / s}


def _entry(clip: Any, text: str, pictures: list[Any], references: tuple[dict, ...]) -> Any:
    from nodes.qwen_image21._prompt import encode
    from nodes.values import CondEntry

    tokenizer, encoder = clip.part(clip.spec.encoders[0].part)
    embeds, slots = encode(tokenizer, encoder, text, pictures, clip.device)
    if not references:  # without latents the picture slots stay the text encoder's states
        slots = slots & False
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), text=text, slots=slots, references=references)


class QwenImage21Cache(Node):
    type_id = "qwen_image21.cache"
    title = "Prefix Cache (Qwen Image 2.1)"
    category = "models/qwen_image"
    description = ("Where Qwen Image 2.1 keeps the keys and values of the prompt and reference tokens, which are "
                   "the same at every step and computed once: beside the model on the GPU while they fit ('auto'), "
                   "always there ('gpu'), in RAM ('cpu'), or not at all ('off': every step recomputes them, slower). "
                   "dtype 'int8' halves them and 'int4' quarters them, at a small loss of accuracy.")
    inputs = (
        Input("model", MODEL),
        Input("device", STRING, default="auto", choices=_CACHE_DEVICES),
        Input("dtype", STRING, default="default", choices=_CACHE_DTYPES),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, device: str, dtype: str) -> tuple[Any]:
        import dataclasses

        spec = model.spec
        if spec is None or spec.pipeline != "QwenImage21Pipeline":
            raise NodeError(f"the prefix cache is Qwen Image 2.1's; this model is "
                            f"{spec.title if spec else 'a Stable Diffusion UNet'}", "model")
        if device not in _CACHE_DEVICES:
            raise NodeError(f"device must be one of {', '.join(_CACHE_DEVICES)}, not '{device}'", "device")
        if dtype not in _CACHE_DTYPES:
            raise NodeError(f"dtype must be one of {', '.join(_CACHE_DTYPES)}, not '{dtype}'", "dtype")
        return (dataclasses.replace(model, prefix_cache=(device, dtype)),)
