"""Qwen Image 2.1's prompt encoding, written to match diffusers' QwenImage21Pipeline.

- The prompt goes into a literal chat template (a system turn "Comprehend and analyze the provided
  prompt.", the user's turn, the assistant's opened), with one "<imageN><|vision_start|><|image_pad|>
  <|vision_end|>" slot group per reference picture before the prompt (separated by spaces); an
  empty prompt becomes " ". The template is tokenized by Qwen3-VL's processor, padded on the left.
- Qwen3-VL runs with the pictures; the states taken are the last decoder layer's output *before*
  the text model's final norm (the pipeline neutralises that norm with a forward hook; so does this).
- The attended tokens after the system turn are kept (the turn's length is the tokenizer's chat
  template rendering of the system message, as the pipeline counts it), with a mask of the picture
  slots (`<|image_pad|>` tokens) the transformer fills with the references' latents.
- Pictures are sized as the pipeline sizes them (`picture_size`): about `resolution` x `resolution`
  pixels, each side a multiple of 32, the aspect kept; the same resized picture is shown to
  Qwen3-VL (composited over white) and encoded by the VAE (as RGBA).
"""

from __future__ import annotations

import math
from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")

SYSTEM = "Comprehend and analyze the provided prompt."
SLOT = "<|vision_start|><|image_pad|><|vision_end|>"


def template(pictures: int) -> str:
    """The pipeline's template for a prompt with `pictures` reference pictures ("{}" is the prompt)."""
    slots = " ".join(f"<image{i}>{SLOT}" for i in range(1, pictures + 1))
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{slots}{{}}<|im_end|>\n"
            "<|im_start|>assistant\n")


def picture_size(width: int, height: int, resolution: int) -> tuple[int, int]:
    """(width, height) a reference is used at: about resolution x resolution pixels at its aspect,
    sides multiples of 32 (the pipeline's calculate_dimensions); resolution 0 keeps its own size,
    rounded to multiples of 32 (ComfyUI's TextEncodeQwenImage21)."""
    if resolution <= 0:
        return max(32, round(width / 32) * 32), max(32, round(height / 32) * 32)
    side = math.sqrt(resolution * resolution * width / height)
    return max(32, round(side / 32) * 32), max(32, round(side * height / width / 32) * 32)


def system_tokens(tokenizer: Any) -> int:
    """Tokens of the system turn the pipeline cuts from the states: its chat template's rendering."""
    message = [{"role": "system", "content": [{"type": "text", "text": SYSTEM}]}]
    ids = tokenizer.apply_chat_template(message, tokenize=True, return_dict=False)
    return len(ids[0]) if ids and isinstance(ids[0], list) else len(ids)


def processor_for(tokenizer: Any) -> Any:
    """Qwen3-VL's processor for this tokenizer, its picture settings shipped with NodeFlow
    (resources/configs/qwen-image-2.1/processor)."""
    from transformers import Qwen2VLImageProcessorPil

    from nodeflow.core.paths import RESOURCES
    from nodes.models._language_encoders import picture_processor

    images = Qwen2VLImageProcessorPil.from_pretrained(RESOURCES / "configs" / "qwen-image-2.1" / "processor")
    return picture_processor(tokenizer, images, "Qwen3VLProcessor")


def shown(picture: Any) -> Any:
    """What Qwen3-VL sees of an RGBA picture: its colours over white (the pipeline's flattening)."""
    from PIL import Image

    white = Image.new("RGB", picture.size, (255, 255, 255))
    white.paste(picture, mask=picture.getchannel("A"))
    return white


def encode(tokenizer: Any, encoder: Any, text: str, pictures: list[Any], device: Any) -> tuple[Any, Any]:
    """(states [1, L, D], picture slots [1, L] bool) of one prompt with its RGBA reference pictures
    (already sized)."""
    processor = processor_for(tokenizer)
    rendered = template(len(pictures)).format(text or " ")
    extra = {"images": [shown(p) for p in pictures]} if pictures else {}
    inputs = processor(text=[rendered], padding=True, padding_side="left", return_tensors="pt", **extra).to(device)
    kwargs = {"input_ids": inputs.input_ids, "attention_mask": inputs.attention_mask, "output_hidden_states": True}
    if pictures and "pixel_values" in inputs:
        kwargs.update(pixel_values=inputs.pixel_values, image_grid_thw=inputs.image_grid_thw)
    if "mm_token_type_ids" in inputs:
        kwargs["mm_token_type_ids"] = inputs.mm_token_type_ids
    text_model = getattr(encoder.model, "language_model", encoder.model)
    handle = text_model.norm.register_forward_hook(lambda module, args, output: args[0])
    try:
        with torch.no_grad():
            states = encoder.model(**kwargs).hidden_states[-1]
    finally:
        handle.remove()
    keep = inputs.attention_mask[0].bool()
    drop = system_tokens(tokenizer)
    pad_id = tokenizer.convert_tokens_to_ids("<|image_pad|>")
    embeds = states[0][keep][drop:].unsqueeze(0)
    slots = (inputs.input_ids[0][keep] == pad_id)[drop:].unsqueeze(0)
    return embeds, slots
