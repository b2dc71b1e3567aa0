"""Flux.2's maths, written to match diffusers' Flux2KleinPipeline.

- `encode`: the prompt through Qwen3's chat template (thinking off), padded to 512 tokens, the
  hidden states of layers 9, 18 and 27 side by side (`_language_prompts.FLUX2_KLEIN`); every
  position is kept, padding included, as the pipeline passes them on (without a mask).
- `Denoise`: a LATENT of Flux.2 is already the VAE's 2x2 cells on the channel axis, batch-normalised
  ([B, 128, h, w], `nodes.values.stored_latents`), so each cell is one token of 128 features; tokens
  carry 4-axis positions (t, y, x, l): the picture at t = 0, the text along l, the reference latents
  (ReferenceLatent: the edit pipelines' `image`) at t = 10, 20, ... after the picture's tokens. The
  timestep is / 1000; the model has no guidance input (Klein). The output is cut back to the
  picture's tokens.
- With Flux KV Cache on the model (`reference_cache`), the references are Flux2KleinKVPipeline's: they
  come before the picture's tokens, are modulated as at t = 0 and attend only to themselves, so their
  keys and values are the same at every step; the first call computes and keeps them (diffusers'
  kv_cache_mode "extract"), later calls run the picture's tokens alone against them ("cached").
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.families import require_rope_width
from nodes.flux._adapter import read_blocks

torch = lazy("torch")


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's Qwen3 states, as Flux2KleinPipeline._get_qwen3_prompt_embeds makes them."""
    from nodes.conditioning._language_prompts import FLUX2_KLEIN
    from nodes.conditioning._language_prompts import encode as encode_language
    from nodes.values import CondEntry

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    embeds, _ = encode_language(FLUX2_KLEIN, tokenizer, encoder, text, clip.device, spec=spec,
                                long_prompt=long_prompt, ctx=ctx)
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), text=text)


def positions(t: int, h: int, w: int, length: int, batch: int, device: Any) -> Any:
    """[batch, h * w * length, 4] token positions (t, y, x, l), as the pipeline's _prepare_*_ids."""
    grid = torch.cartesian_prod(torch.tensor([t]), torch.arange(h), torch.arange(w), torch.arange(length))
    return grid.unsqueeze(0).repeat(batch, 1, 1).to(device)


def pack(latents: Any) -> Any:
    """[B, C, h, w] -> [B, h * w, C] (Flux2KleinPipeline._pack_latents)."""
    b, c, h, w = latents.shape
    return latents.reshape(b, c, h * w).permute(0, 2, 1)


class Denoise:
    """The transformer's velocity for [B, 128, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        device = model.device
        self.model, self.size = model, size
        embeds = entry.embeds.to(device)
        self.embeds = embeds.repeat(1, batch, 1).view(embeds.shape[0] * batch, embeds.shape[1], -1)
        self.txt_ids = positions(0, 1, 1, embeds.shape[1], batch, device)
        self.picture_ids = positions(0, size[0], size[1], 1, batch, device)
        ids, references = [], []
        for i, latent in enumerate(entry.references):
            if latent.shape[1] != model.latent_channels:
                raise NodeError(f"a reference latent of {latent.shape[1]} channels does not fit {model.spec.title} "
                                f"({model.latent_channels}); encode it with this model's VAE", "conditioning")
            rh, rw = latent.shape[-2:]
            ids.append(positions(10 + 10 * i, rh, rw, 1, batch, device))
            references.append(pack(latent.to(device=device, dtype=model.dtype)).repeat(batch, 1, 1))
        self.reference_ids = torch.cat(ids, dim=1) if ids else None
        self.references = torch.cat(references, dim=1) if references else None
        self.cached = model.reference_cache and self.references is not None
        self.kv_cache: Any = None
        self.guidance = None
        if getattr(model.unet.config, "guidance_embeds", False):
            value = entry.guidance if entry.guidance is not None else model.spec.guidance_default
            self.guidance = torch.full([1], float(value), device=device, dtype=torch.float32).expand(batch)

    def __call__(self, latents: Any, t: Any) -> Any:
        b, c, h, w = latents.shape
        tokens, ids = pack(latents), self.picture_ids
        call: dict[str, Any] = {}
        if self.cached and self.kv_cache is None:  # the first step: the references' keys and values kept
            tokens, ids = torch.cat([self.references, tokens], dim=1), torch.cat([self.reference_ids, ids], dim=1)
            call = {"kv_cache_mode": "extract", "num_ref_tokens": self.references.shape[1]}
        elif self.cached:
            call = {"kv_cache_mode": "cached", "kv_cache": self.kv_cache}
        elif self.references is not None:
            tokens, ids = torch.cat([tokens, self.references], dim=1), torch.cat([ids, self.reference_ids], dim=1)
        timestep = t.expand(b).to(latents.dtype)
        with _kv_processors(self.model.unet) if self.cached else contextlib.nullcontext():
            out = self.model.unet(hidden_states=tokens.to(self.model.unet.dtype), timestep=timestep / 1000,
                                  guidance=self.guidance, encoder_hidden_states=self.embeds, txt_ids=self.txt_ids,
                                  img_ids=ids, joint_attention_kwargs=None, return_dict=False, **call)
        if call.get("kv_cache_mode") == "extract":
            self.kv_cache = out[1]
        return out[0][:, :h * w].permute(0, 2, 1).reshape(b, -1, h, w)


@contextlib.contextmanager
def _kv_processors(unet: Any) -> Iterator[None]:
    """The transformer's attention as Flux2KleinKVPipeline sets it (the processors that keep and read the
    references' keys and values) for one call, the shared model's own processors back after it."""
    from diffusers.models.transformers.transformer_flux2 import (
        Flux2KVAttnProcessor,
        Flux2KVParallelSelfAttnProcessor,
    )

    blocks = [(b.attn, Flux2KVAttnProcessor) for b in unet.transformer_blocks]
    blocks += [(b.attn, Flux2KVParallelSelfAttnProcessor) for b in unet.single_transformer_blocks]
    own = [attn.processor for attn, _ in blocks]
    try:
        for attn, kind in blocks:
            attn.set_processor(kind())
        yield
    finally:
        for (attn, _), processor in zip(blocks, own):
            attn.set_processor(processor)


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """Flux2Transformer2DModel's config for weights of these (bare) shapes, in BFL's (ComfyUI's) key
    names or diffusers': widths, block counts, the feed-forward ratio and the guidance input read off
    the tensors, the rope axes from `base` (the shipped Flux.2 Klein config)."""
    config = dict(base)
    if read_blocks(shapes, config):  # BFL / ComfyUI names
        config["timestep_guidance_channels"] = shapes["time_in.in_layer.weight"][1]
        feed_forward = shapes["double_blocks.0.img_mlp.0.weight"][0]
        config["guidance_embeds"] = "guidance_in.in_layer.weight" in shapes
    else:
        config["timestep_guidance_channels"] = shapes["time_guidance_embed.timestep_embedder.linear_1.weight"][1]
        feed_forward = shapes["transformer_blocks.0.ff.linear_in.weight"][0]
        config["guidance_embeds"] = any(k.startswith("time_guidance_embed.guidance_embedder.") for k in shapes)
    head_dim = config["attention_head_dim"]
    hidden = head_dim * config["num_attention_heads"]
    config["mlp_ratio"] = feed_forward / 2 / hidden
    require_rope_width(head_dim, config["axes_dims_rope"], "Flux.2")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: the shipped one (mu given per run)."""
    return dict(base)
