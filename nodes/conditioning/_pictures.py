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


#: Vision-language model type -> (the shipped folder of its picture settings, its transformers processor):
#: the processors Qwen Image 2.1 (Qwen3-VL) and the Qwen-Image editors (Qwen2.5-VL) read pictures with.
PROCESSORS = {"qwen3_vl": ("qwen-image-2.1", "Qwen3VLProcessor"), "qwen2_5_vl": ("qwen-image", "Qwen2VLProcessor")}


def processor(model_type: str, tokenizer: Any) -> Any:
    """The processor of this kind of encoder, with its picture settings shipped with NodeFlow."""
    from transformers import Qwen2VLImageProcessorPil

    from nodeflow.core.paths import RESOURCES
    from nodes.models._language_encoders import picture_processor

    if model_type not in PROCESSORS:
        raise NodeError(f"this text encoder ({model_type or 'not a vision-language model'}) sees no pictures: "
                        "Qwen3-VL and Qwen2.5-VL encoders do; unlink 'image'", "image")
    folder, processor_class = PROCESSORS[model_type]
    images = Qwen2VLImageProcessorPil.from_pretrained(RESOURCES / "configs" / folder / "processor")
    return picture_processor(tokenizer, images, processor_class)


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
    reader = processor(model_type, clip.tokenizer)
    picture_tokens(encoder, clip.tokenizer)
    pictures = [Image.fromarray((frame.detach().float().cpu().clamp(0, 1).numpy() * 255).round().astype(np.uint8))
                for frame in image[..., :3]]
    text = prompt_text(clip.tokenizer, SLOT * len(pictures) + prompt, system_prompt, thinking, template)
    inputs = reader(text=[text], images=pictures, return_tensors="pt")
    extra = {name: inputs[name].to(encoder.device) for name in ("pixel_values", "image_grid_thw", "mm_token_type_ids")
             if name in inputs}
    return inputs["input_ids"], extra
