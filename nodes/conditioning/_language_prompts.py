"""How each diffusers pipeline turns a prompt into a language model's hidden states, as data.

Pipelines conditioned by a language model (Qwen-Image, Z-Image, Flux.2, Lumina 2) differ only in
a few choices: the text wrapped around the prompt (a literal template with a system prompt, or
the tokenizer's own chat template and its switches), the tokens cut from the front, the padding,
which hidden states are taken (the last, the one before, or several stacked on the feature axis)
and whether padding tokens are kept. Each `LanguagePrompt` below is read from its pipeline's
encode function (named in `follows`) and `encode` applies it, so a family's adapter declares its
recipe and calls one function; the parity tests hold each recipe to its pipeline.

How many tokens are read is not the recipe's: the family declares its pipeline's window
(`TextEncoder.max_length`) and `TextEncoder.cut` decides, by Text Encode's `long_prompt`, whether a
longer prompt is cut there (the diffusers convention) or read whole, as ComfyUI reads it. A prompt
longer than the language model's position table is refused in one line naming the prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy

torch = lazy("torch")


@dataclass(frozen=True)
class LanguagePrompt:
    """One pipeline's prompt encoding (see module doc)."""

    #: The diffusers function this follows, e.g. "QwenImagePipeline._get_qwen_prompt_embeds".
    follows: str
    #: Text around the prompt ("{}" is the prompt); used when `chat` is None.
    template: str = "{}"
    #: Keyword switches for the tokenizer's chat template (one user message, generation prompt
    #: added), when the pipeline renders the prompt with `apply_chat_template`.
    chat: Mapping[str, Any] | None = None
    #: Tokens of the rendered text the pipeline cuts from the front (its system prompt).
    drop: int = 0
    #: Whether the pipeline's window counts the tokens after the dropped ones (the tokenizer reads
    #: window + drop: Qwen-Image, Kandinsky 5) rather than the whole rendered text.
    window_after_drop: bool = False
    #: Padding: "max_length" (to the window, a longer prompt is left as long as it is) or "longest".
    padding: str = "max_length"
    #: The side padding goes ("right", "left"), where the pipeline sets it; "" keeps the tokenizer's.
    side: str = ""
    #: Indices into the model's hidden states; several are concatenated along the features.
    layers: tuple[int, ...] = (-1,)
    #: "masked": only the attended tokens are kept; "all": every position, with the mask.
    keep: str = "masked"
    #: Text put before the prompt for each reference picture, numbered from 1 (the edit
    #: pipelines' "Picture 1: <|vision_start|>..."); the pictures go through the processor.
    picture: str = ""
    #: Whether the model gets the processor's `mm_token_type_ids` with the pictures, so their tokens take
    #: their own rotary positions (Qwen3-VL refuses pictures without them); QwenImageEditPlusPipeline
    #: withholds them from Qwen2.5-VL, which then numbers every token in a row.
    picture_positions: bool = False
    #: A system message before the user's: the chat template renders both (each content a list of
    #: typed parts, as multimodal templates take it) and tokenizes them itself, special tokens included.
    system: str = ""
    #: Whether the chat template opens the assistant's turn (add_generation_prompt).
    generation_prompt: bool = True
    #: Text removed from the prompt first (Flux2Pipeline drops Pixtral's "[IMG]").
    strip: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


QWEN_IMAGE = LanguagePrompt(
    follows="QwenImagePipeline._get_qwen_prompt_embeds",
    template=("<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, quantity, text, "
              "spatial relationships of the objects and background:<|im_end|>\n<|im_start|>user\n{}<|im_end|>\n"
              "<|im_start|>assistant\n"),
    drop=34, window_after_drop=True, padding="longest", layers=(-1,), keep="masked",
)

KANDINSKY5 = LanguagePrompt(
    follows="Kandinsky5T2IPipeline._encode_prompt_qwen",
    template=("<|im_start|>system\nYou are a prompt engineer. Describe the image by detailing the color, shape, size, "
              "texture, quantity, text, spatial relationships of the objects and background:<|im_end|>\n"
              "<|im_start|>user\n{}<|im_end|>"),
    drop=40, window_after_drop=True, padding="longest", layers=(-1,), keep="masked",
)

Z_IMAGE = LanguagePrompt(
    follows="ZImagePipeline._encode_prompt",
    chat={"enable_thinking": True}, padding="max_length", layers=(-2,), keep="masked",
)

FLUX2_KLEIN = LanguagePrompt(
    follows="Flux2KleinPipeline._get_qwen3_prompt_embeds",
    chat={"enable_thinking": False}, padding="max_length", layers=(9, 18, 27), keep="all",
)

#: BFL's system message for FLUX.2 [dev]'s Mistral encoder (diffusers' flux2/system_messages.py, Apache-2.0).
_FLUX2_SYSTEM = ("You are an AI that reasons about image descriptions. You give structured responses focusing on "
                 "object relationships, object\nattribution and actions without speculation.")

FLUX2_DEV = LanguagePrompt(
    follows="Flux2Pipeline._get_mistral_3_small_prompt_embeds",
    chat={}, system=_FLUX2_SYSTEM, generation_prompt=False, strip=("[IMG]",), padding="max_length",
    layers=(10, 20, 30), keep="all",
)

_EDIT_SYSTEM = ("<|im_start|>system\nDescribe the key features of the input image (color, shape, size, texture, "
                "objects, background), then explain how the user's text instruction should alter or modify the image. "
                "Generate a new image that meets the user's requirements while maintaining consistency with the "
                "original input where appropriate.<|im_end|>\n<|im_start|>user\n")

QWEN_IMAGE_EDIT = LanguagePrompt(
    follows="QwenImageEditPipeline._get_qwen_prompt_embeds",
    template=_EDIT_SYSTEM + "<|vision_start|><|image_pad|><|vision_end|>{}<|im_end|>\n<|im_start|>assistant\n",
    drop=64, padding="longest", layers=(-1,), keep="masked",
)

QWEN_IMAGE_EDIT_PLUS = LanguagePrompt(
    follows="QwenImageEditPlusPipeline._get_qwen_prompt_embeds",
    template=_EDIT_SYSTEM + "{}<|im_end|>\n<|im_start|>assistant\n",
    drop=64, padding="longest", layers=(-1,), keep="masked",
    picture="Picture {}: <|vision_start|><|image_pad|><|vision_end|>",
)

#: The text as it comes: Lumina2Pipeline.encode_prompt puts its system prompt before the positive prompt only
#: (Text Encode (Lumina 2) does, `nodes.lumina2._adapter.with_system`).
LUMINA2 = LanguagePrompt(
    follows="Lumina2Pipeline._get_gemma_prompt_embeds",
    padding="max_length", side="right", layers=(-2,), keep="all",
)


def render(recipe: LanguagePrompt, tokenizer: Any, text: str, pictures: int = 0) -> str:
    """The text the language model reads for `text` with `pictures` reference pictures."""
    text = "".join(recipe.picture.format(i + 1) for i in range(pictures)) + text
    if recipe.chat is None:
        return recipe.template.format(text)
    return tokenizer.apply_chat_template(messages(recipe, text), tokenize=False,
                                         add_generation_prompt=recipe.generation_prompt, **recipe.chat)


def messages(recipe: LanguagePrompt, text: str) -> list[dict[str, Any]]:
    """The chat a recipe renders for one prompt: the user's message, after the system's if any."""
    for cut in recipe.strip:
        text = text.replace(cut, "")
    if not recipe.system:
        return [{"role": "user", "content": text}]
    return [{"role": "system", "content": [{"type": "text", "text": recipe.system}]},
            {"role": "user", "content": [{"type": "text", "text": text}]}]


def encode(recipe: LanguagePrompt, tokenizer: Any, model: Any, text: str, device: Any,
           images: list[Any] | None = None, processor: Any = None, *, spec: Any = None, long_prompt: str = "cut",
           ctx: RunContext | None = None) -> tuple[Any, Any]:
    """(hidden states [1, L, D * len(layers)], attention mask [1, L] of 0/1) of one prompt; a
    vision-language model also sees `images` (as its `processor` takes them: the pipelines size
    them before) where the recipe puts them.

    `spec` is the family's `TextEncoder`: its window pads the prompt, and it is cut where
    `spec.cut(tokenizer, long_prompt)` says (with a warning naming the words cut off, on `ctx`); None
    where the pipeline neither pads nor cuts (the edit pipelines). With `keep="masked"` every
    returned position is attended (the mask is all ones); with "all" the padding positions stay,
    marked 0 in the mask, as the pipeline passes them on.
    """
    extra: dict[str, Any] = {}
    if images:
        rendered = render(recipe, tokenizer, text, len(images) if recipe.picture else 0)
        inputs = processor(text=[rendered], images=images, padding=True, return_tensors="pt")
        names = ("pixel_values", "image_grid_thw") + (("mm_token_type_ids",) if recipe.picture_positions else ())
        extra = {k: inputs[k].to(device) for k in names if k in inputs}
    else:
        window, cut = (spec.window(tokenizer), spec.cut(tokenizer, long_prompt)) if spec is not None else (0, None)
        head = recipe.drop if recipe.window_after_drop else 0
        full = _tokenize(recipe, tokenizer, text, {})
        count = full["input_ids"].shape[1] - head
        if cut is not None and count > cut:
            rest = tokenizer.decode(full["input_ids"][0, head + cut:])
            warn_cut(ctx, recipe.follows.split(".")[0], count, cut, rest, long_prompt)
            size = {"max_length": cut + head, "truncation": True}
        elif recipe.padding == "max_length" and window and count < window:
            size = {"max_length": window + head, "truncation": False}
        else:
            size = {}
        inputs = _tokenize(recipe, tokenizer, text, size) if size else full
    ids, mask = inputs["input_ids"].to(device), inputs["attention_mask"].to(device)
    require_positions(model, int(mask.sum()))
    with torch.no_grad():
        states = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False,
                       **extra).hidden_states
    embeds = torch.cat([states[i] for i in recipe.layers], dim=-1)
    if recipe.keep == "masked":
        embeds = embeds[0][mask[0].bool()][recipe.drop:].unsqueeze(0)
        mask = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)
    else:
        embeds, mask = embeds[:, recipe.drop:], mask[:, recipe.drop:]
    return embeds, mask


def _tokenize(recipe: LanguagePrompt, tokenizer: Any, text: str, size: Mapping[str, Any]) -> Any:
    """The rendered prompt's token ids and mask; `size` holds max_length and truncation, where given
    (with max_length the recipe's padding applies; without it, none)."""
    padding = recipe.padding if "max_length" in size or recipe.padding == "longest" else False
    if recipe.system:
        return tokenizer.apply_chat_template(messages(recipe, text), tokenize=True, return_dict=True,
                                             add_generation_prompt=recipe.generation_prompt, padding=padding,
                                             return_tensors="pt", **size, **recipe.chat)
    side = {"padding_side": recipe.side} if recipe.side else {}
    return tokenizer(render(recipe, tokenizer, text), padding=padding, return_tensors="pt", **size, **side)


def warn_cut(ctx: RunContext | None, pipeline: str, count: int, cut: int, rest: str, long_prompt: str = "cut") -> None:
    """The one warning for a prompt cut (`TextEncoder.cut`), naming what was cut off."""
    if ctx is None:
        return
    if long_prompt == "cut":
        ctx.warn(f"the prompt is {count} tokens, longer than the {cut} {pipeline} reads; this part was cut off, as "
                 f"the pipeline cuts it (long_prompt 'chunk' reads it whole, as ComfyUI does): {rest!r}")
    else:
        ctx.warn(f"the prompt is {count} tokens, longer than the {cut} this model takes here (ComfyUI reads it "
                 f"whole; the transformer NodeFlow runs has no text positions past {cut}); this part was cut off: "
                 f"{rest!r}")


def require_positions(model: Any, count: int, field: str = "text") -> None:
    """One line when a prompt has more tokens than the language model has positions for (its
    `max_position_embeddings`): past them its rotary positions were never trained, so the states
    would mean nothing the model learnt."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    most = getattr(config, "max_position_embeddings", None)
    if isinstance(most, int) and count > most:
        raise NodeError(f"the prompt is {count} tokens; this {type(model).__name__} takes at most {most} "
                        "(its max_position_embeddings): shorten it", field)
