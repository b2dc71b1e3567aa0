"""Prompt text -> CONDITIONING, written to match diffusers' `encode_prompt` (clip_skip None).

SD 1.x/2.x use one CLIP text encoder (long prompts cut, or encoded window by window); SDXL uses
both encoders' penultimate states side by side and the second encoder's pooled output.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.values import Clip, CondEntry

torch = lazy("torch")

def encode_text(ctx: RunContext, clip: Clip, text: str, long_prompt: str = "cut") -> CondEntry:
    """One prompt through the text encoder(s), as diffusers' `encode_prompt` does (clip_skip None).

    A prompt longer than the tokenizer's window is cut, exactly as diffusers cuts it, with a warning
    naming the cut-off words; or, with long_prompt="chunk" (SD 1.x/2.x), encoded window by window
    and the windows' states joined (a prompt that fits gives the same result either way). A declared
    family's encoders read it as `TextEncoder.cut` says (a language model or T5: whole, with "chunk").
    """
    if clip.spec is not None:  # a declared family encodes as its own pipeline does
        return clip.spec.module().encode(ctx, clip, text, long_prompt=long_prompt)
    with torch.no_grad():
        if clip.text_encoder_2 is not None:
            if long_prompt == "chunk":
                raise NodeError("chunked long prompts are supported for SD 1.x/2.x text encoders only",
                                "long_prompt")
            return _encode_sdxl(ctx, clip, text)
        if long_prompt == "chunk":
            ids, mask = _chunk_tokens(clip.tokenizer, text)
        else:
            ids, mask = _tokens(ctx, clip.tokenizer, text)
        attention = mask.to(clip.device) if getattr(clip.text_encoder.config, "use_attention_mask", False) else None
        embeds = clip.text_encoder(ids.to(clip.device), attention_mask=attention)[0]
        embeds = embeds.to(dtype=clip.text_encoder.dtype, device=clip.device)
        embeds = embeds.reshape(1, -1, embeds.shape[-1])  # chunks side by side
    return CondEntry(embeds=embeds, text=text)


def _chunk_tokens(tokenizer: Any, text: str) -> tuple[Any, Any]:
    """[chunks, window] token ids: each chunk is BOS + up to window-2 tokens + EOS + padding."""
    window = tokenizer.model_max_length
    ids = tokenizer(text, add_special_tokens=False, truncation=False).input_ids
    rows, masks = [], []
    for start in range(0, max(len(ids), 1), window - 2):
        body = [tokenizer.bos_token_id, *ids[start:start + window - 2], tokenizer.eos_token_id]
        masks.append([1] * len(body) + [0] * (window - len(body)))
        rows.append(body + [tokenizer.pad_token_id] * (window - len(body)))
    return torch.tensor(rows), torch.tensor(masks)


def _tokens(ctx: RunContext, tokenizer: Any, text: str) -> tuple[Any, Any]:
    inputs = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length,
                       truncation=True, return_tensors="pt")
    full = tokenizer(text, padding="longest", return_tensors="pt").input_ids
    if full.shape[-1] > inputs.input_ids.shape[-1]:
        removed = tokenizer.batch_decode(full[:, tokenizer.model_max_length - 1: -1])[0]
        ctx.warn(f"prompt is longer than the text encoder's {tokenizer.model_max_length} tokens; "
                 f"this part was cut off (as diffusers does): {removed!r}")
    return inputs.input_ids, inputs.attention_mask


def _encode_sdxl(ctx: RunContext, clip: Clip, text: str) -> CondEntry:
    """SDXL: penultimate hidden states of both encoders side by side, pooled output of the second."""
    parts = []
    pooled = None
    for tokenizer, encoder in ((clip.tokenizer, clip.text_encoder), (clip.tokenizer_2, clip.text_encoder_2)):
        ids, _ = _tokens(ctx, tokenizer, text)
        out = encoder(ids.to(clip.device), output_hidden_states=True)
        pooled = out[0]
        parts.append(out.hidden_states[-2])
    embeds = torch.concat(parts, dim=-1).to(dtype=clip.text_encoder_2.dtype, device=clip.device)
    return CondEntry(embeds=embeds, pooled=pooled.to(dtype=clip.text_encoder_2.dtype), text=text)


# ---------------------------------------------------------------------------------- schedulers
