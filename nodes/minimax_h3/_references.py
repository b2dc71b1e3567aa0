"""MiniMax H3's reference-to-video prompt (the pipeline's `ref2va`): pictures the video draws on, shown to
Qwen3-VL as `<Picture i>: ` + a vision block before the prompt, and packed as their own blocks of
conditioning rows (each at its own size) ahead of the soundtrack and the video.

The presentation, the vision features and the packed layout are diffusers' own
(`MiniMaxH3Ref2VATextEncoderStep`, `MiniMaxH3Ref2VAPrepareLayoutStep`), so they are the pipeline's to
the bit; each reference's latents are encoded as a keyframe's (`_adapter.keyframe_latents`) and held
at t 0.999 as keyframes are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from nodes._lazy import lazy
from nodes.minimax_h3._numbers import AUDIO_CHANNELS, AUDIO_TAG, FPS, TEXT_LAYER, TEXT_TAG, VIDEO_TAG

torch = lazy("torch")

#: Pixels a reference's sides are a multiple of, and the short side ComfyUI's "max" sizing caps them at.
MULTIPLE, MAX_SHORT_SIDE = 32, 2048


@dataclass(frozen=True)
class Reference:
    """A picture reference: diffusers' MiniMaxH3ImageReference (the fitted picture) and its conditioning
    latents [1, 24, 1, h, w] at its own size."""

    image: Any
    latents: Any


def fitted_size(width: int, height: int, area: int, mode: str) -> tuple[int, int]:
    """A reference picture's size as ComfyUI's MiniMax H3 Reference to Video sizes it: scaled down only,
    keeping its aspect, to the video's pixel area ("match") or to a 2048 short side ("max"), each side
    rounded to a multiple of 32."""
    scale = min(1.0, math.sqrt(area / (width * height))) if mode == "match" else min(1.0, MAX_SHORT_SIDE /
                                                                                       min(width, height))
    return (max(MULTIPLE, round(width * scale / MULTIPLE) * MULTIPLE),
            max(MULTIPLE, round(height * scale / MULTIPLE) * MULTIPLE))


def image_reference(picture: Any) -> Any:
    """diffusers' MiniMaxH3ImageReference of a picture [1, H, W, 3] in [0, 1] (8-bit, as the pipeline sees it)."""
    from diffusers.modular_pipelines.minimax_h3.references import MiniMaxH3ImageReference

    from nodes._tensors import image_to_pils

    return MiniMaxH3ImageReference(image=image_to_pils(picture)[0])


def prompt_states(tokenizer: Any, encoder: Any, processor: Any, text: str, references: tuple[Reference, ...],
                  device: Any) -> tuple[Any, Any]:
    """([1, tokens, width] states of Qwen3-VL's layer 50, [tokens] modality tags) of the pipeline's ref2va
    presentation: each reference's label and vision block, then the prompt verbatim."""
    from diffusers.modular_pipelines.minimax_h3.encoders import (
        MiniMaxH3Ref2VATextEncoderStep,
        get_qwen3vl_prompt_embeds,
    )

    step = MiniMaxH3Ref2VATextEncoderStep()
    shown = [r.image for r in references]
    vision, image_counts, video_counts, stamps = step._gather_vision_features(processor, shown, FPS)
    ids, tags = step._build_presentation(tokenizer, text, shown, image_counts, video_counts, stamps, TEXT_TAG,
                                         VIDEO_TAG)
    # the pipeline calls its Qwen3VLForConditionalGeneration's `.model`: NodeFlow holds that model itself
    conditioner = SimpleNamespace(model=encoder, config=encoder.config, dtype=encoder.dtype)
    with torch.no_grad():
        states = get_qwen3vl_prompt_embeds(conditioner, processor, ids, vision, text_encoder_layer=TEXT_LAYER,
                                           device=device, dtype=encoder.dtype)
    return states, torch.tensor(tags, dtype=torch.long)


def layout(tags: Any, references: tuple[Reference, ...], frames: int, height: int, width: int, audio_frames: int,
           patch: tuple[int, int, int]) -> tuple[Any, ...]:
    """The pipeline's ref2va packed sequence: (position ids, tags, video indices, audio indices, text
    indices, conditioning video rows, conditioning audio rows)."""
    from diffusers.modular_pipelines.minimax_h3.before_denoise import MiniMaxH3Ref2VAPrepareLayoutStep

    return MiniMaxH3Ref2VAPrepareLayoutStep.build_ref2va_packed_sequence(
        tags, [r.image for r in references], [r.latents for r in references], [], frames, height, width,
        audio_frames, patch, AUDIO_CHANNELS, AUDIO_TAG, VIDEO_TAG)
