"""Pictures for Generate Text: a vision-language encoder (Qwen3-VL, Qwen2.5-VL) reads them with the prompt.

ComfyUI's TextGenerate takes an image for the vision-language encoders (llm_qwen3vl_text_gen: "what's
in the images"). Each picture of the IMAGE batch becomes one picture slot
("<|vision_start|><|image_pad|><|vision_end|>", what these models' chat templates write for an image)
before the prompt in the user's turn; the model's processor, with the picture settings NodeFlow ships
for it, sizes the pictures and widens each slot to the picture's tokens. An encoder that sees no
pictures (a text-only language model) refuses them by name.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError

SLOT = "<|vision_start|><|image_pad|><|vision_end|>"


def _processor(model_type: str, tokenizer: Any) -> Any:
    """The processor the family that loads this kind of encoder already uses for its pictures."""
    if model_type == "qwen3_vl":
        from nodes.qwen_image21._prompt import processor_for

        return processor_for(tokenizer)
    if model_type == "qwen2_5_vl":
        from nodes.qwen_image.edit import picture_processor_for

        return picture_processor_for(tokenizer)
    raise NodeError(f"this text encoder ({model_type or 'not a vision-language model'}) sees no pictures: "
                    "Qwen3-VL and Qwen2.5-VL encoders do; unlink 'image'", "image")


def picture_prompt(clip: Any, image: Any, prompt: str, system_prompt: str, *, thinking: bool,
                   template: bool) -> tuple[Any, dict[str, Any]]:
    """(token ids [1, L], the model's picture inputs) of `prompt` after the pictures of `image`
    ([B, H, W, 3] in [0, 1]), in the chat template when `template` (see the module docstring)."""
    import numpy as np
    from PIL import Image

    from nodes.conditioning._generate import prompt_text
    from nodes.models._language_encoders import picture_tokens

    encoder = clip.text_encoder
    model_type = str(getattr(getattr(encoder, "config", None), "model_type", ""))
    processor = _processor(model_type, clip.tokenizer)
    picture_tokens(encoder, clip.tokenizer)
    pictures = [Image.fromarray((frame.detach().float().cpu().clamp(0, 1).numpy() * 255).round().astype(np.uint8))
                for frame in image[..., :3]]
    text = prompt_text(clip.tokenizer, SLOT * len(pictures) + prompt, system_prompt, thinking, template)
    inputs = processor(text=[text], images=pictures, return_tensors="pt")
    extra = {name: inputs[name].to(encoder.device) for name in ("pixel_values", "image_grid_thw", "mm_token_type_ids")
             if name in inputs}
    return inputs["input_ids"], extra
