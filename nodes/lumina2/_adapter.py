"""Lumina 2's maths, written to match diffusers' Lumina2Pipeline.

- `encode`: the text through Gemma 2 as the pipeline's `_get_gemma_prompt_embeds` does
  (`_language_prompts.LUMINA2`: padded on the right to 256 tokens, states[-2], every position kept
  with its mask). The pipeline puts its system prompt before the positive prompt only
  (`system + " <Prompt Start> " + prompt`) and encodes the negative as written; NodeFlow's Text Encode
  takes the text as written too, and Text Encode (Lumina 2) writes the system prompt before it
  (`with_system`), as ComfyUI's CLIPTextEncodeLumina2 does.
- `Denoise`: the transformer on [B, 16, h, w] latents (it patches them itself), its timestep running
  the other way (1 - t / 1000), its output negated: the pipeline negates it before the scheduler step.
- `mix`: the pipeline's guidance, uncond + cfg * (cond - uncond) rescaled to the positive output's
  norm over the last axis (cfg_normalization, on by default). Lumina 2 Guidance (`nodes.lumina2.nodes`)
  sets the pipeline's cfg_normalization and cfg_trunc_ratio on the model (`Model.guidance_options`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.families import require_rope_width, require_text_positions

torch = lazy("torch")

#: The system prompts ComfyUI's CLIPTextEncodeLumina2 offers, by its names; "superior" is Lumina2Pipeline's
#: `system_prompt`. Others (NetaYume's anime and negative prefixes) are written before the prompt as text.
SYSTEM_PROMPTS = {
    "superior": "You are an assistant designed to generate superior images with the superior degree of image-text "
                "alignment based on textual prompts or user prompts.",
    "alignment": "You are an assistant designed to generate high-quality images with the highest degree of "
                 "image-text alignment based on textual prompts.",
}


def with_system(system: str, text: str) -> str:
    """The text Gemma reads for a prompt after a system prompt (Lumina2Pipeline.encode_prompt's)."""
    return f"{system} <Prompt Start> {text}"


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One text's Gemma 2 states and mask, as Lumina2Pipeline._get_gemma_prompt_embeds makes them: a
    longer text is cut at the pipeline's 256 tokens, with a warning naming what was cut off, or read
    whole (long_prompt "chunk"), as ComfyUI reads it."""
    from nodes.conditioning._language_prompts import LUMINA2
    from nodes.conditioning._language_prompts import encode as encode_language
    from nodes.values import CondEntry

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    embeds, mask = encode_language(LUMINA2, tokenizer, encoder, text, clip.device, spec=spec,
                                   long_prompt=long_prompt, ctx=ctx)
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), text=text, attention_mask=mask)


class Denoise:
    """The velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        require_whole_cells(*size, model.vae_scale_factor, "Lumina 2")
        width = int(model.unet.config.cap_feat_dim)
        if entry.embeds.shape[-1] != width:
            raise NodeError(f"this conditioning has {entry.embeds.shape[-1]} features per token; this Lumina 2 "
                            f"model takes Gemma 2 states {width} wide (load the text encoder with type lumina2)",
                            "positive")
        self.model = model
        self.embeds = entry.embeds.to(model.device).repeat(batch, 1, 1)
        mask = entry.attention_mask
        if mask is None:
            mask = torch.ones(entry.embeds.shape[:2], dtype=torch.long)
        # the attended caption takes rotary rows 0.. and the picture the next: all under axes_lens[0]
        require_text_positions(int(mask.sum(dim=1).max()), int(model.unet.config.axes_lens[0]) - 1, "Lumina 2",
                               "axes_lens[0]")
        self.mask = mask.to(model.device).repeat(batch, 1)
        self.train_steps = int(model.scheduler_config.get("num_train_timesteps", 1000))

    def __call__(self, latents: Any, t: Any) -> Any:
        timestep = (1 - t / self.train_steps).expand(latents.shape[0])
        out = self.model.unet(hidden_states=latents.to(self.model.unet.dtype), timestep=timestep,
                              encoder_hidden_states=self.embeds, encoder_attention_mask=self.mask,
                              return_dict=False)[0]
        return -out


def mix(cond: Any, uncond: Any, cfg: float, options: Mapping[str, Any] | None = None) -> Any:
    """Lumina2Pipeline's guidance (see module doc); `options` the model's Lumina 2 Guidance settings."""
    guided = uncond + cfg * (cond - uncond)
    if (options or {}).get("cfg_normalization", True):
        guided = guided * (torch.norm(cond, dim=-1, keepdim=True) / torch.norm(guided, dim=-1, keepdim=True))
    return guided


def guided_at(step: int, steps: int, options: Mapping[str, Any] | None = None) -> bool:
    """Whether the pipeline guides at step `step` of `steps`: cfg_trunc_ratio stops guidance (one model
    call, the positive prompt's) once (step + 1) / steps passes it."""
    return (step + 1) / steps <= float((options or {}).get("cfg_trunc_ratio", 1.0))


#: diffusers' key names of the tensors the sizes are read from, and the original (ComfyUI's) ones.
_NAMES = (("time_caption_embed.caption_embedder.", "cap_embedder."), ("attn.norm_q.", "attention.q_norm."),
          ("feed_forward.linear_1.", "feed_forward.w1."), ("norm1.linear.", "adaLN_modulation.1."))


def _original(shapes: Mapping[str, tuple[int, ...]]) -> bool:
    return "cap_embedder.1.weight" in shapes


def _shape(shapes: Mapping[str, tuple[int, ...]], key: str) -> tuple[int, ...]:
    if key in shapes:
        return shapes[key]
    for new, old in _NAMES:
        key = key.replace(new, old)
    return shapes[key]


def _count(shapes: Mapping[str, tuple[int, ...]], prefix: str) -> int:
    return len({k[len(prefix):].split(".", 1)[0] for k in shapes if k.startswith(prefix)})


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """Lumina2Transformer2DModel's config for weights of these (bare) shapes, in the original key names
    (ComfyUI's files: fused qkv) or diffusers': widths, layer and head counts and the feed-forward
    width read off the tensors, the rope axes and patch size from `base`, the shipped config."""
    config = dict(base)
    hidden, features = _shape(shapes, "x_embedder.weight")
    config["hidden_size"] = hidden
    config["in_channels"] = features // config["patch_size"] ** 2
    config["cap_feat_dim"] = _shape(shapes, "time_caption_embed.caption_embedder.1.weight")[1]
    config["num_layers"] = _count(shapes, "layers.")
    config["num_refiner_layers"] = _count(shapes, "noise_refiner.")
    head_dim = _shape(shapes, "layers.0.attn.norm_q.weight")[0]
    config["num_attention_heads"] = hidden // head_dim
    if _original(shapes):
        config["num_kv_heads"] = (shapes["layers.0.attention.qkv.weight"][0] // head_dim - hidden // head_dim) // 2
    else:
        config["num_kv_heads"] = shapes["layers.0.attn.to_k.weight"][0] // head_dim
    # LuminaFeedForward's width is 2/3 of 4 x hidden, times ffn_dim_multiplier, rounded up to multiple_of:
    # the file's width is reached with multiple_of = that width (and a multiplier below 1 if narrower)
    width = _shape(shapes, "layers.0.feed_forward.linear_1.weight")[0]
    base_width = int(2 * 4 * hidden / 3)
    config["multiple_of"] = width
    config["ffn_dim_multiplier"] = None if base_width <= width else width / base_width
    require_rope_width(head_dim, config["axes_dim_rope"], "Lumina 2")
    return config


def denoiser_state(state: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """Weights in the original key names with each fused qkv split by the config's head counts
    (diffusers' converter splits at the 2B model's fixed sizes), for diffusers' Lumina 2 converter."""
    if "cap_embedder.1.weight" not in state:
        return state
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    sizes = [config["hidden_size"], config["num_kv_heads"] * head_dim, config["num_kv_heads"] * head_dim]
    split = {}
    for key, value in state.items():
        if ".attention.qkv." in key:
            for name, part in zip(("to_q", "to_k", "to_v"), torch.split(value, sizes, dim=0), strict=True):
                split[key.replace(".qkv.", f".{name}.")] = part
        else:
            split[key] = value
    return split


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: the shipped one (a constant shift of 6)."""
    return dict(base)
