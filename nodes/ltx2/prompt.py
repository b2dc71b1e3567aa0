"""Generate LTX2 Prompt (ComfyUI's TextGenerateLTX2Prompt): LTX-2's prompt enhancement with its own Gemma.

LTX-2.0 / 2.3's Gemma 3 text encoder doubles as its prompt writer: the user's words go in a chat whose
system turn is LTX-2's own instructions (Lightricks' text-to-video system prompt, or its image-to-video one
when a first frame is given, which diffusers ships as `T2V_DEFAULT_SYSTEM_PROMPT` / `I2V_DEFAULT_SYSTEM_PROMPT`),
laid out in Gemma's turns as ComfyUI's node lays them out:

    <bos><start_of_turn>system\n{system}<end_of_turn>\n<start_of_turn>user\n{media}\nUser Raw Input Prompt:
    {prompt}.<end_of_turn>\n<start_of_turn>model\n

`media` is empty, or for a picture a newline, Gemma's image tokens (as many as its projector makes, where
Gemma3ForConditionalGeneration puts the picture's features) and a newline. The picture is sized as ComfyUI
sizes it for Gemma: to the vision tower's area (area filter), then its square (bicubic, centre crop), in
-1..1. Gemma writes until its end of turn, through Generate Text's path (`nodes.conditioning._generate`:
seeded, bounded in tokens and seconds); reasoning tags a model may write are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import AUDIO, BOOLEAN, CLIP, IMAGE, STRING
from nodes.conditioning._generate import MAX_SECONDS, SAMPLING_INPUTS

#: Gemma's chat turns: a turn opens with START + role and a newline, and closes with END.
START, END = "<start_of_turn>", "<end_of_turn>"
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)
#: Where a picture's tokens go in the chat's text (never typed: split out before tokenizing).
PICTURE = "\x00picture\x00"


def chat(bos: str, system: str, prompt: str, media: str = "") -> str:
    """The chat Gemma continues (see module doc)."""
    return (f"{bos}{START}system\n{system}{END}\n{START}user\n{media}\nUser Raw Input Prompt: {prompt}.{END}\n"
            f"{START}model\n")


def picture_inputs(ctx: RunContext, model: Any, tokenizer: Any, text: str, image: Any) -> tuple[Any, dict]:
    """The chat's token ids with the picture's tokens where `PICTURE` stands in `text`, and its pixel values
    (see module doc), for a Gemma with a vision tower."""
    import math

    import torch

    from nodes.image.sizes import resize

    config = model.config
    side = int(config.vision_config.image_size)
    picture = image[:1, ..., :3]
    height, width = picture.shape[1:3]
    scale = math.sqrt(side * side / (width * height))
    picture = resize(ctx, picture, max(1, round(width * scale)), max(1, round(height * scale)), "area", field="image")
    picture = resize(ctx, picture, side, side, "bicubic", crop="center", field="image")
    pixels = (picture.permute(0, 3, 1, 2) - 0.5) / 0.5
    before, after = text.split(PICTURE)
    pieces = [tokenizer(part, return_tensors="pt", add_special_tokens=False).input_ids for part in (before, after)]
    tokens = torch.full((1, int(config.mm_tokens_per_image)), int(config.image_token_id), dtype=pieces[0].dtype)
    ids = torch.cat([pieces[0], tokens, pieces[1]], dim=1).to(model.device)
    return ids, {"pixel_values": pixels.to(device=model.device, dtype=model.dtype)}


def cleaned(text: str) -> str:
    """The written prompt without reasoning (closed, or cut off after its last close) or stray tags."""
    text = _THINKING.sub("", text)
    text = text.rsplit("</think>", 1)[-1]
    return re.sub(r"</?think>", "", text).strip()


class TextGenerateLTX2Prompt(Node):
    type_id = "ltx2.generate_prompt"
    title = "Generate LTX2 Prompt"
    category = "conditioning/ltx2"
    description = ("Expands a short idea into the detailed scene, motion and sound description LTX-2 was trained on, "
                   "written by LTX-2's own Gemma 3 text encoder following Lightricks' instructions (ComfyUI's Generate "
                   "LTX2 Prompt): up to max_length new tokens, greedy with sampling_mode off, sampled and seeded "
                   "with it on; stops after max_seconds. With a first frame: the image-to-video instructions, and "
                   "Gemma sees the picture.")
    inputs = (
        Input("clip", CLIP, help="LTX-2's text encoder (Load LTXV Audio Text Encoder)."),
        Input("prompt", STRING, default="", multiline=True),
        Input("image", IMAGE, optional=True,
              help="the first frame (the first picture of a batch): the image-to-video instructions, and Gemma "
                   "sees it (a Gemma loaded with its vision tower: a model folder)"),
        Input("video", IMAGE, optional=True, help="not read: LTX 2.5's Gemma 4 writer reads it, Gemma 3 does not"),
        Input("audio", AUDIO, optional=True, help="not read: LTX 2.5's Gemma 4 writer reads it, Gemma 3 does not"),
        *SAMPLING_INPUTS,
        Input("thinking", BOOLEAN, default=False, help="Gemma 3 has no thinking mode: unused"),
        Input("use_default_template", BOOLEAN, default=True,
              help="unused: the prompt is always put in LTX-2's chat (as ComfyUI's node does)"),
        MAX_SECONDS,
    )
    outputs = (Output("generated_text", STRING),)

    def run(self, ctx: RunContext, clip: Any, prompt: str, max_length: int, sampling_mode: str,
            temperature: float, top_k: int, top_p: float, min_p: float, repetition_penalty: float, seed: int,
            presence_penalty: float, thinking: bool, use_default_template: bool, max_seconds: float,
            image: Any = None, video: Any = None, audio: Any = None) -> tuple[str]:
        from diffusers.pipelines.ltx2.utils import I2V_DEFAULT_SYSTEM_PROMPT, T2V_DEFAULT_SYSTEM_PROMPT

        from nodes.conditioning._generate import Sampling, causal_lm, generate

        for value, field in ((video, "video"), (audio, "audio")):
            if value is not None:
                raise NodeError(f"LTX-2's Gemma 3 prompt writer reads text and a first frame; unlink '{field}'", field)
        tokenizer = getattr(clip, "tokenizer", None)
        vocabulary = tokenizer.get_vocab() if tokenizer is not None and hasattr(tokenizer, "get_vocab") else {}
        if START not in vocabulary or END not in vocabulary:
            raise NodeError("this text encoder is not a Gemma chat model (its tokenizer has no <start_of_turn>): "
                            "connect LTX-2's Gemma 3 text encoder", "clip")
        sampling = Sampling.chosen(sampling_mode, temperature, top_k, top_p, min_p, repetition_penalty,
                                   presence_penalty, seed)
        bos = tokenizer.bos_token or ""
        ids = extra = None
        if image is None:
            text = chat(bos, T2V_DEFAULT_SYSTEM_PROMPT.strip(), prompt)
        else:
            model = causal_lm(clip.text_encoder)
            if getattr(model, "get_image_features", None) is None:
                raise NodeError("this Gemma was loaded without its vision tower (a language-model file), so it cannot "
                                "see the picture: load a Gemma 3 folder, or unlink 'image'", "image")
            text = chat(bos, I2V_DEFAULT_SYSTEM_PROMPT.strip(), prompt, f"\n{PICTURE}\n")
            ids, extra = picture_inputs(ctx, model, tokenizer, text, image)
        written = generate(ctx, clip, text, "", max_tokens=max_length, sampling=sampling, thinking=False,
                           template=False, seconds=max_seconds, stop=(END,), ids=ids, extra=extra)
        return (cleaned(written),)
