"""Qwen-Image's maths, written to match diffusers' QwenImagePipeline.

- `encode`: the prompt in the pipeline's system template through Qwen2.5-VL, the last hidden
  states of its attended tokens after the 34 template tokens (`_language_prompts.QWEN_IMAGE`); a
  mask of all ones is dropped, as the pipeline drops it.
- `Denoise`: the transformer on 2x2-cell tokens (the pipeline's `_pack_latents`), the timestep / 1000
  and the picture's token grid (`img_shapes`); an edit's reference latents (QwenImageEditPlusPipeline,
  `nodes.qwen_image.edit`) follow as more tokens with their own grids, and the output is cut back to
  the picture's tokens and unpacked to [B, C, h, w].
- A prompt with InstantX ControlNets (Apply ControlNet, ControlNet Inpainting) runs them before each
  transformer call and adds their block outputs (`nodes.qwen_image._instantx`).
- A model with a DiffSynth ControlNet (Model Patch ControlNet) adds its blocks' outputs to the picture's
  tokens after each transformer block (`nodes.qwen_image._control`).
- `mix`: the pipeline's true CFG, rescaled so each token's guided velocity keeps the norm of the
  positive one (norms over the packed token features).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._latent_numbers import require_control_size, require_whole_cells
from nodes._lazy import lazy
from nodes.families import require_rope_width

torch = lazy("torch")


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's Qwen2.5-VL states, as QwenImagePipeline.encode_prompt makes them."""
    from nodes.conditioning._language_prompts import QWEN_IMAGE
    from nodes.conditioning._language_prompts import encode as encode_language
    from nodes.values import CondEntry

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    embeds, mask = encode_language(QWEN_IMAGE, tokenizer, encoder, text, clip.device, spec=spec,
                                   long_prompt=long_prompt, ctx=ctx)
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), text=text,
                     attention_mask=None if bool(mask.all()) else mask)


def encode_edit(ctx: RunContext, clip: Any, vae: Any, prompt: str, pictures: list[Any]) -> Any:
    """Text Encode (Qwen-Image Edit)'s conditioning: QwenImageEditPipeline's (`nodes.qwen_image._edit`)."""
    from nodes.qwen_image._edit import encode_edit as encode_with_picture

    return encode_with_picture(clip, vae, prompt, pictures, plus=False)


def encode_edit_plus(ctx: RunContext, clip: Any, vae: Any, prompt: str, pictures: list[Any]) -> Any:
    """Text Encode (Qwen-Image Edit Plus)'s conditioning: QwenImageEditPlusPipeline's (`nodes.qwen_image._edit`)."""
    from nodes.qwen_image._edit import encode_edit as encode_with_pictures

    return encode_with_pictures(clip, vae, prompt, pictures, plus=True)


def pack(latents: Any) -> Any:
    b, c, h, w = latents.shape
    return latents.view(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(b, (h // 2) * (w // 2), c * 4)


def unpack(tokens: Any, h: int, w: int) -> Any:
    b, _, features = tokens.shape
    return tokens.view(b, h // 2, w // 2, features // 4, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(b, features // 4, h, w)


class Denoise:
    """The transformer's velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        h, w = size
        require_whole_cells(h, w, model.vae_scale_factor, "Qwen-Image")
        self.model, self.size = model, size
        self.control = None
        if model.control is not None:
            require_control_size(model.control.latents, size)
            self.control = pack(model.control.latents)
        embeds = entry.embeds.to(model.device)
        self.embeds = embeds.repeat(1, batch, 1).view(embeds.shape[0] * batch, embeds.shape[1], -1)
        mask = entry.attention_mask
        self.mask = None if mask is None else mask.to(model.device).repeat(batch, 1)
        shapes = [(1, h // 2, w // 2)]
        references = []
        for latent in entry.references:  # the edit pipelines' picture latents, after the noise's tokens
            rh, rw = latent.shape[-2:]
            shapes.append((1, rh // 2, rw // 2))
            references.append(pack(latent.to(device=model.device, dtype=model.dtype)).repeat(batch, 1, 1))
        self.references = torch.cat(references, dim=1) if references else None
        self.shapes = [shapes] * batch
        self.controls = tuple(entry.controls)
        if self.controls:
            from nodes.qwen_image._instantx import require_fit

            if references:
                raise NodeError("Qwen-Image's ControlNets steer text-to-image and inpainting, not an edit's "
                                "reference pictures", "positive")
            require_fit(self.controls, size)
        self.conds = [pack(c.latents) for c in self.controls]

    def __call__(self, latents: Any, t: Any) -> Any:
        h, w = self.size
        timestep = t.expand(latents.shape[0]).to(latents.dtype)
        tokens = pack(latents)
        count = tokens.shape[1]
        if self.references is not None:
            tokens = torch.cat([tokens, self.references], dim=1)
        controlled = contextlib.nullcontext()
        if self.control is not None:
            from nodes.qwen_image._control import attached

            controlled = attached(self.model, self.control, count)
        samples = None
        if self.controls:
            from nodes.qwen_image._instantx import block_samples
            from nodes.sampling._cond_call import is_active

            step = float(t.flatten()[0]) if t.ndim else float(t)
            samples = block_samples(self.controls, self.conds, tokens, timestep / 1000, self.embeds, self.mask,
                                    self.shapes, lambda c: is_active((c.start, c.end), step, 1000))
        with controlled:
            out = self.model.unet(hidden_states=tokens, timestep=timestep / 1000, guidance=None,
                                  encoder_hidden_states_mask=self.mask, encoder_hidden_states=self.embeds,
                                  img_shapes=self.shapes, attention_kwargs={}, controlnet_block_samples=samples,
                                  return_dict=False)[0]
        return unpack(out[:, :count], h, w)


def mix(cond: Any, uncond: Any, cfg: float) -> Any:
    """QwenImagePipeline's true CFG with its norm rescale, per packed token."""
    h, w = cond.shape[-2:]
    positive, negative = pack(cond), pack(uncond)
    combined = negative + cfg * (positive - negative)
    scale = torch.norm(positive, dim=-1, keepdim=True) / torch.norm(combined, dim=-1, keepdim=True)
    return unpack(combined * scale, h, w)


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """QwenImageTransformer2DModel's config for weights of these (bare) shapes (ComfyUI's files use
    diffusers' names): widths, blocks and heads read off the tensors, rope axes from `base`."""
    config = dict(base)
    inner, config["in_channels"] = shapes["img_in.weight"]
    config["joint_attention_dim"] = shapes["txt_in.weight"][1]
    config["num_layers"] = len({k.split(".")[1] for k in shapes if k.startswith("transformer_blocks.")})
    head_dim = shapes["transformer_blocks.0.attn.norm_q.weight"][0]
    config["attention_head_dim"], config["num_attention_heads"] = head_dim, inner // head_dim
    config["out_channels"] = shapes["proj_out.weight"][0] // config["patch_size"] ** 2
    require_rope_width(head_dim, config["axes_dims_rope"], "Qwen-Image")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: the shipped one (dynamic shift)."""
    return dict(base)
