"""Chroma's maths, written to match diffusers' ChromaPipeline.

- `encode`: T5 with its attention mask (padded to 512 tokens); the mask the transformer gets keeps
  the prompt's tokens and the first padding token (`mask_indices <= seq_lengths`), in T5's dtype, or
  as T5 Tokenizer Options say: min_padding padding tokens, and at least min_length tokens.
- `Denoise`: Flux's packing and position ids (`nodes.flux._adapter`), the timestep / 1000, the text
  mask extended with ones for the image tokens, no pooled vector, no guidance input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import RunContext
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.flux._adapter import image_ids, pack, tokens, unpack

torch = lazy("torch")


def encode(ctx: RunContext, clip: Any, text: str, texts: Mapping[str, str] | None = None,
           long_prompt: str = "cut") -> Any:
    from nodes.values import CondEntry

    (t5,) = clip.spec.encoders
    tokenizer, encoder = clip.part(t5.part)
    with torch.no_grad():
        inputs = tokens(ctx, tokenizer, (texts or {}).get(t5.comfy_name, text), t5.window(tokenizer),
                        t5.cut(tokenizer, long_prompt))
        mask = inputs.attention_mask.to(clip.device)
        embeds = encoder(inputs.input_ids.to(clip.device), output_hidden_states=False, attention_mask=mask)[0]
        embeds = embeds.to(dtype=encoder.dtype, device=clip.device)
        lengths = mask.sum(dim=1)
        indices = torch.arange(mask.size(1), device=clip.device).unsqueeze(0).expand(mask.shape[0], -1)
        if clip.t5_options is None:  # the pipeline's rule: the prompt and one padding token
            attention = (indices <= lengths.unsqueeze(1)).to(dtype=encoder.dtype, device=clip.device)
        else:
            min_padding, min_length = clip.t5_options
            visible = torch.clamp(lengths + int(min_padding), min=int(min_length))
            attention = (indices < visible.unsqueeze(1)).to(dtype=encoder.dtype, device=clip.device)
    return CondEntry(embeds=embeds, text=text, attention_mask=attention)


def _repeat(tensor: Any, batch: int) -> Any:
    return tensor.repeat(1, batch, *([1] * (tensor.ndim - 2))).view(tensor.shape[0] * batch, *tensor.shape[1:])


class Denoise:
    """The transformer's velocity for [B, C, h, w] latents under one prompt."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        h, w = size
        require_whole_cells(h, w, model.vae_scale_factor, "Chroma")
        device, dtype = model.device, model.dtype
        self.model, self.size = model, size
        embeds = entry.embeds.to(device)
        self.embeds = _repeat(embeds, batch)
        self.text_ids = torch.zeros(embeds.shape[1], 3).to(device=device, dtype=embeds.dtype)
        self.img_ids = image_ids(h, w, device, dtype)
        self.mask = None
        if entry.attention_mask is not None:
            mask = _repeat(entry.attention_mask.to(device), batch)
            ones = torch.ones(batch, (h // 2) * (w // 2), device=device, dtype=torch.bool)
            self.mask = torch.cat([mask, ones], dim=1)

    def __call__(self, latents: Any, t: Any) -> Any:
        h, w = self.size
        timestep = t.expand(latents.shape[0]).to(latents.dtype)
        out = self.model.unet(hidden_states=pack(latents), timestep=timestep / 1000,
                              encoder_hidden_states=self.embeds, txt_ids=self.text_ids, img_ids=self.img_ids,
                              attention_mask=self.mask, joint_attention_kwargs={}, return_dict=False)[0]
        return unpack(out, h, w)


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """ChromaTransformer2DModel's config for weights of these (bare) shapes, in the original or diffusers'
    key names: Flux's sizes (`nodes.flux._adapter`) plus the modulation approximator's."""
    from nodes.flux._adapter import _count, read_blocks

    config = dict(base)
    read_blocks(shapes, config)
    hidden_dim, config["approximator_num_channels"] = shapes["distilled_guidance_layer.in_proj.weight"]
    config["approximator_hidden_dim"] = hidden_dim
    config["approximator_layers"] = _count(shapes, "distilled_guidance_layer.layers.")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    return dict(base)
