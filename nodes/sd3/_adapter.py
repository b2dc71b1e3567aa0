"""SD3 / SD3.5's maths, written to match diffusers' StableDiffusion3Pipeline.

- `encode`: both CLIPs' penultimate hidden states side by side (cast to the first CLIP's dtype),
  zero-padded to T5's width and followed by T5's last states (256 tokens); the pooled vector is
  both CLIPs' projected pooled outputs side by side.
- `Denoise`: the transformer on [B, 16, h, w] latents (it patches them itself) at timestep t
  (0..1000, not rescaled), with blocks skipped for Skip Layer Guidance as the pipeline's
  `skip_guidance_layers` call does; `Denoise.batched` runs negative and positive in one call, as the
  pipeline's classifier-free guidance does, and returns (uncond, cond).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import RunContext
from nodes._lazy import lazy
from nodes.flux._adapter import tokens

torch = lazy("torch")


def encode(ctx: RunContext, clip: Any, text: str, texts: Mapping[str, str] | None = None,
           long_prompt: str = "cut") -> Any:
    """One prompt as the pipeline encodes it; `texts` gives an encoder its own text by its ComfyUI
    name ("clip_l", "clip_g", "t5xxl"), as prompt / prompt_2 / prompt_3 and CLIPTextEncodeSD3 do. The
    CLIPs read their first 77-token window; T5 reads as `TextEncoder.cut` says."""
    from nodes.values import CondEntry

    texts = texts or {}
    if clip.t5_options is not None:
        ctx.warn("T5 Tokenizer Options change which padding tokens a masked T5 prompt keeps (Chroma); SD3's T5 "
                 "sees its padded tokens as StableDiffusion3Pipeline gives them, so they change nothing here")
    clip_l, clip_g, t5 = clip.spec.encoders
    states, pooled = [], []
    with torch.no_grad():
        first_dtype = clip.part(clip_l.part)[1].dtype
        for spec in (clip_l, clip_g):
            tokenizer, encoder = clip.part(spec.part)
            window = tokenizer.model_max_length
            ids = tokens(ctx, tokenizer, texts.get(spec.comfy_name, text), window, window).input_ids
            out = encoder(ids.to(clip.device), output_hidden_states=True)
            pooled.append(out[0])
            states.append(out.hidden_states[-2].to(dtype=first_dtype, device=clip.device))
        clip_states = torch.cat(states, dim=-1)
        tokenizer, encoder = clip.part(t5.part)
        ids = tokens(ctx, tokenizer, texts.get(t5.comfy_name, text), t5.window(tokenizer),
                     t5.cut(tokenizer, long_prompt)).input_ids
        t5_states = encoder(ids.to(clip.device))[0].to(dtype=encoder.dtype, device=clip.device)
        clip_states = torch.nn.functional.pad(clip_states, (0, t5_states.shape[-1] - clip_states.shape[-1]))
        embeds = torch.cat([clip_states, t5_states], dim=-2)
    return CondEntry(embeds=embeds, pooled=torch.cat(pooled, dim=-1), text=text)


def _repeat(entry: Any, batch: int, device: Any) -> tuple[Any, Any]:
    embeds = entry.embeds.to(device)
    embeds = embeds.repeat(1, batch, 1).view(embeds.shape[0] * batch, embeds.shape[1], -1)
    pooled = entry.pooled.to(device).repeat(1, batch).view(batch, -1)
    return embeds, pooled


class Denoise:
    """The transformer's velocity for [B, C, h, w] latents under one prompt."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        self.model = model
        self.embeds, self.pooled = _repeat(entry, batch, model.device)

    def __call__(self, latents: Any, t: Any, skip: tuple[int, ...] = ()) -> Any:
        """The velocity; `skip`: transformer blocks left out (Skip Layer Guidance's call)."""
        extra = {"skip_layers": list(skip)} if skip else {}
        return self.model.unet(hidden_states=latents, timestep=t.expand(latents.shape[0]),
                               encoder_hidden_states=self.embeds, pooled_projections=self.pooled,
                               joint_attention_kwargs=None, return_dict=False, **extra)[0]

    @classmethod
    def batched(cls, model: Any, negative: Any, positive: Any, batch: int, size: tuple[int, int]) -> Any:
        neg, pos = cls(model, negative, batch, size), cls(model, positive, batch, size)
        embeds = torch.cat([neg.embeds, pos.embeds], dim=0)
        pooled = torch.cat([neg.pooled, pos.pooled], dim=0)

        def call(latents: Any, t: Any) -> tuple[Any, Any]:
            doubled = torch.cat([latents] * 2)
            out = model.unet(hidden_states=doubled, timestep=t.expand(doubled.shape[0]),
                             encoder_hidden_states=embeds, pooled_projections=pooled,
                             joint_attention_kwargs=None, return_dict=False)[0]
            return out.chunk(2)

        return call


def _indices(shapes: Mapping[str, Any], prefix: str) -> list[int]:
    return sorted({int(k[len(prefix):].split(".", 1)[0]) for k in shapes if k.startswith(prefix)})


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """SD3Transformer2DModel's config for weights of these (bare) shapes, in Stability's or diffusers'
    key names: depth, widths, patch, position table, qk-norm and SD3.5 medium's dual-attention blocks
    read off the tensors; the head width (64 in every SD3) from `base`."""
    config = dict(base)
    original = "x_embedder.proj.weight" in shapes
    blocks, proj = ("joint_blocks.", "x_embedder.proj.weight") if original else ("transformer_blocks.",
                                                                                "pos_embed.proj.weight")
    hidden, config["in_channels"], config["patch_size"], _ = shapes[proj]
    layers = _indices(shapes, blocks)
    config["num_layers"] = len(layers)
    config["num_attention_heads"] = hidden // config["attention_head_dim"]
    config["caption_projection_dim"] = hidden
    if original:
        config["joint_attention_dim"] = shapes["context_embedder.weight"][1]
        config["pooled_projection_dim"] = shapes["y_embedder.mlp.0.weight"][1]
        positions = shapes["pos_embed"][1]
        config["qk_norm"] = "rms_norm" if "joint_blocks.0.x_block.attn.ln_q.weight" in shapes else None
        dual = "joint_blocks.{}.x_block.attn2.qkv.weight"
    else:
        config["joint_attention_dim"] = shapes["context_embedder.weight"][1]
        config["pooled_projection_dim"] = shapes["time_text_embed.text_embedder.linear_1.weight"][1]
        positions = shapes["pos_embed.pos_embed"][1]
        config["qk_norm"] = "rms_norm" if "transformer_blocks.0.attn.norm_q.weight" in shapes else None
        dual = "transformer_blocks.{}.attn2.to_q.weight"
    config["dual_attention_layers"] = tuple(i for i in layers if dual.format(i) in shapes)
    config["pos_embed_max_size"] = round(positions ** 0.5)
    config["out_channels"] = config["in_channels"]
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """SD3's and SD3.5's pipelines share one scheduler config (shift 3)."""
    return dict(base)
