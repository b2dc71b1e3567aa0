"""Qwen-Image Edit's prompt encoding, written to match diffusers' QwenImageEditPipeline and
QwenImageEditPlusPipeline (the nodes: `nodes.qwen_image.edit`; the family adapter's `encode_edit`).

The pictures are shown twice, as the pipelines show them: to Qwen2.5-VL (Edit: the one picture at
about 1024x1024, inside its template; Edit Plus, 2509 / 2511: up to three at about 384x384, "Picture
N:" before the prompt), and to the transformer as reference latents at about 1024x1024 (each side a
multiple of 32, the aspect kept; the VAE posterior's mode, normalised per channel as the pipelines
do: (mean - m) / s).
"""

from __future__ import annotations

import math
from typing import Any

#: The pipeline's picture areas: what the language model sees, what the transformer refers to.
CONDITION_AREA = 384 * 384
REFERENCE_AREA = 1024 * 1024


def area_size(area: int, ratio: float) -> tuple[int, int]:
    """(width, height) of about `area` pixels at aspect `ratio`, sides multiples of 32 (the pipeline's
    calculate_dimensions)."""
    width = math.sqrt(area * ratio)
    return round(width / 32) * 32, round(width / ratio / 32) * 32


def encode_edit(clip: Any, vae: Any, prompt: str, pictures: list[Any], plus: bool, recipe: Any = None) -> Any:
    """The prompt's CondEntry: Qwen2.5-VL's states with the pictures (Edit Plus: each at the condition
    area; Edit: the reference-sized picture), and their reference latents. Another family's `recipe`
    (`_language_prompts.LanguagePrompt`: Krea 2's states of Qwen3-VL) encodes the same pictures its way,
    read by its encoder's processor."""
    import torch
    from diffusers.image_processor import VaeImageProcessor

    from nodes._tensors import image_to_pils
    from nodes.conditioning._language_prompts import QWEN_IMAGE_EDIT, QWEN_IMAGE_EDIT_PLUS
    from nodes.conditioning._language_prompts import encode as encode_language
    from nodes.conditioning._pictures import processor
    from nodes.values import CondEntry

    tokenizer, encoder = clip.part(clip.spec.encoders[0].part)
    pils = [image_to_pils(p)[0] for p in pictures]
    factor = vae.scale_factor if vae is not None else 8
    processor_images = VaeImageProcessor(vae_scale_factor=factor * 2)
    area = CONDITION_AREA if plus else REFERENCE_AREA
    shown = [processor_images.resize(p, *reversed(area_size(area, p.width / p.height))) for p in pils]
    if not plus:
        pils = shown  # the first Edit pipeline encodes the picture it showed
    recipe = recipe or (QWEN_IMAGE_EDIT_PLUS if plus else QWEN_IMAGE_EDIT)
    reader = processor(str(getattr(encoder.config, "model_type", "")), tokenizer) if shown else None
    embeds, mask = encode_language(recipe, tokenizer, encoder, prompt, clip.device, shown or None, reader)
    references = []
    with torch.no_grad():
        for picture in pils:
            width, height = area_size(REFERENCE_AREA, picture.width / picture.height)
            pixels = processor_images.preprocess(picture, height, width).to(device=vae.device, dtype=vae.dtype)
            mean, _ = vae.encode_dist(pixels)
            numbers = vae.numbers()
            shape = (1, mean.shape[1], 1, 1)
            m = torch.tensor(numbers["latents_mean"]).view(shape).to(mean.device, mean.dtype)
            s = torch.tensor(numbers["latents_std"]).view(shape).to(mean.device, mean.dtype)
            references.append({"samples": (mean - m) / s})
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), text=prompt, references=tuple(references),
                     attention_mask=None if bool(mask.all()) else mask)


def picture_processor_for(tokenizer: Any) -> Any:
    """Qwen2.5-VL's processor for this tokenizer, its picture settings shipped with NodeFlow
    (resources/configs/qwen-image/processor)."""
    from nodes.conditioning._pictures import processor

    return processor("qwen2_5_vl", tokenizer)
