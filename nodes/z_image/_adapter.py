"""Z-Image's maths, written to match diffusers' ZImagePipeline.

- `encode`: the prompt through Qwen3's chat template (thinking on), the second-to-last hidden
  states of its attended tokens only (`nodes.conditioning._language_prompts.Z_IMAGE`).
- `Denoise`: the transformer takes a list of [C, 1, h, w] latents (it patches them itself) and a
  list of captions; its timestep runs the other way ((1000 - t) / 1000) and it predicts the
  negated velocity, which is turned back here, before guidance. ZImagePipeline's guidance
  `pos + g * (pos - neg)` is the usual `neg + cfg * (pos - neg)` with cfg = g + 1, on when g > 0:
  NodeFlow's cfg is ComfyUI's, so its pipeline's guidance_scale g is cfg - 1.
- A model with a ControlNet (Model Patch ControlNet) adds its blocks' outputs to the transformer's
  layers on each call, as ZImageControlNetPipeline does (`nodes.z_image._control`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import RunContext
from nodes._latent_numbers import require_control_size, require_whole_cells
from nodes._lazy import lazy
from nodes.families import require_rope_width, require_text_positions
from nodes.z_image import _control

torch = lazy("torch")


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's Qwen3 states, as ZImagePipeline._encode_prompt makes them."""
    from nodes.conditioning._language_prompts import Z_IMAGE
    from nodes.conditioning._language_prompts import encode as encode_language
    from nodes.values import CondEntry

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    embeds, _ = encode_language(Z_IMAGE, tokenizer, encoder, text, clip.device, spec=spec, long_prompt=long_prompt,
                                ctx=ctx)
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), text=text)


class Denoise:
    """The velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        require_whole_cells(*size, model.vae_scale_factor, "Z-Image")
        if model.control is not None:
            require_control_size(model.control.latents, size)
        # the caption, padded to a multiple of 32, takes rotary rows 1.. and the picture the row after it,
        # all under axes_lens[0]
        rows = int(model.unet.config.axes_lens[0])
        require_text_positions(entry.embeds.shape[1], (rows - 2) // 32 * 32, "Z-Image", "axes_lens[0]")
        self.model = model
        self.captions = [entry.embeds[0].to(model.device)] * batch

    def __call__(self, latents: Any, t: Any) -> Any:
        return _velocity(self.model, latents, t, self.captions)

    @classmethod
    def batched(cls, model: Any, negative: Any, positive: Any, batch: int, size: tuple[int, int]) -> Any:
        """One call for both prompts, as the pipeline's guidance runs (positive first, then negative);
        returns (negative output, positive output)."""
        neg, pos = cls(model, negative, batch, size), cls(model, positive, batch, size)

        def call(latents: Any, t: Any) -> tuple[Any, Any]:
            out = _velocity(model, torch.cat([latents] * 2), t, pos.captions + neg.captions)
            cond, uncond = out.chunk(2)
            return uncond, cond

        return call


def _velocity(model: Any, latents: Any, t: Any, captions: list[Any]) -> Any:
    timestep = (1000 - t.expand(latents.shape[0])) / 1000
    pictures = list(latents.to(model.unet.dtype).unsqueeze(2).unbind(dim=0))
    samples = _control.block_samples(model, pictures, timestep, captions)
    out = model.unet(pictures, timestep, captions, controlnet_block_samples=samples, return_dict=False)[0]
    return -torch.stack([o.float() for o in out], dim=0).squeeze(2)


def _count(shapes: Mapping[str, tuple[int, ...]], prefix: str) -> int:
    return len({k[len(prefix):].split(".", 1)[0] for k in shapes if k.startswith(prefix)})


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """ZImageTransformer2DModel's config for weights of these (bare) shapes, in ComfyUI's key names
    (fused qkv) or diffusers': widths, layer and head counts read off the tensors, the rest (rope
    axes, patch sizes) from `base`, the shipped Z-Image config."""
    config = dict(base)
    patch = config["all_patch_size"][0] ** 2 * config["all_f_patch_size"][0]
    embedder = "x_embedder.weight" if "x_embedder.weight" in shapes else "all_x_embedder.2-1.weight"
    config["dim"], features = shapes[embedder]
    config["in_channels"] = features // patch
    config["cap_feat_dim"] = shapes["cap_embedder.1.weight"][1]
    config["n_layers"] = _count(shapes, "layers.")
    config["n_refiner_layers"] = _count(shapes, "noise_refiner.")
    norm = "layers.0.attention.q_norm.weight" if "layers.0.attention.q_norm.weight" in shapes \
        else "layers.0.attention.norm_q.weight"
    head_dim = shapes[norm][0]
    config["n_heads"] = config["dim"] // head_dim
    if "layers.0.attention.qkv.weight" in shapes:
        config["n_kv_heads"] = (shapes["layers.0.attention.qkv.weight"][0] // head_dim - config["n_heads"]) // 2
    else:
        config["n_kv_heads"] = shapes["layers.0.attention.to_k.weight"][0] // head_dim
    require_rope_width(head_dim, config["axes_dims"], "Z-Image")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: the shipped one (a constant shift of 3)."""
    return dict(base)
