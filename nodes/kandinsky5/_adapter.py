"""Kandinsky 5's text-to-image maths, written to match diffusers' Kandinsky5T2IPipeline.

- `encode`: the prompt cleaned as the pipeline cleans it (`prompt_clean`), in its system template
  (`_language_prompts.KANDINSKY5`): Qwen2.5-VL's last hidden states after the template's first 40
  tokens, and CLIP-L's pooled vector of the same prompt (77 tokens, padded) as `pooled`.
- `Denoise`: the transformer takes channels-last latents with a frame axis ([B, 1, h, w, C]), the
  timestep as the scheduler gives it, the picture's rotary positions (frame 0, rows and columns of
  its 2x2 cells) and the text's (0 .. tokens - 1); its velocity is put back to [B, C, h, w].
- `start_noise`: the pipeline draws its starting noise channels-last; drawn so, the same seed starts
  from the same noise.
Guidance is the usual `uncond + cfg * (cond - uncond)` (the pipeline's guidance_scale is NodeFlow's cfg),
two transformer calls as the pipeline makes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.families import require_rope_width

torch = lazy("torch")


def encode(ctx: RunContext, clip: Any, text: str, texts: Mapping[str, str] | None = None,
           long_prompt: str = "cut") -> Any:
    """One prompt's Qwen2.5-VL states and CLIP pooled vector, as Kandinsky5T2IPipeline.encode_prompt makes them."""
    from diffusers.pipelines.kandinsky5.pipeline_kandinsky_t2i import prompt_clean

    from nodes.conditioning._language_prompts import KANDINSKY5
    from nodes.conditioning._language_prompts import encode as encode_language
    from nodes.flux._adapter import tokens
    from nodes.values import CondEntry

    qwen_spec, clip_spec = clip.spec.encoders
    texts = texts or {}
    tokenizer, encoder = clip.part(qwen_spec.part)
    embeds, _ = encode_language(KANDINSKY5, tokenizer, encoder, prompt_clean(texts.get(qwen_spec.comfy_name, text)),
                                clip.device, spec=qwen_spec, long_prompt=long_prompt, ctx=ctx)
    clip_tokenizer, clip_model = clip.part(clip_spec.part)
    ids = tokens(ctx, clip_tokenizer, prompt_clean(texts.get(clip_spec.comfy_name, text)), clip_spec.max_length,
                 clip_spec.max_length)
    with torch.no_grad():
        pooled = clip_model(ids.input_ids.to(clip.device), attention_mask=ids.attention_mask.to(clip.device)
                            ).pooler_output
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), pooled=pooled.to(dtype=encoder.dtype), text=text)


def start_noise(shape: tuple[int, ...], generator: Any, device: Any, dtype: Any) -> Any:
    """The starting noise for latents of `shape` [B, C, h, w], drawn channels-last as the pipeline draws it."""
    from diffusers.utils.torch_utils import randn_tensor

    b, c, h, w = shape
    noise = randn_tensor((b, h, w, c), generator=generator, device=device, dtype=dtype)
    return noise.permute(0, 3, 1, 2).contiguous()


class Denoise:
    """The transformer's velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        h, w = size
        require_whole_cells(h, w, model.vae_scale_factor, "Kandinsky 5")
        if entry.pooled is None:
            raise NodeError("this conditioning has no pooled CLIP vector; Kandinsky 5 takes Qwen2.5-VL's states and "
                            "CLIP-L's pooled vector (load the text encoders with family kandinsky5_image)", "positive")
        config = model.unet.config
        if entry.embeds.shape[-1] != config.in_text_dim:
            raise NodeError(f"this conditioning has {entry.embeds.shape[-1]} features per token; this Kandinsky 5 "
                            f"takes {config.in_text_dim} (Qwen2.5-VL's; load the text encoders with family "
                            "kandinsky5_image)", "positive")
        device = model.device
        self.model = model
        self.embeds = entry.embeds.to(device).repeat(batch, 1, 1)
        self.pooled = entry.pooled.to(device).repeat(batch, 1)
        self.visual = [torch.arange(1, device=device), torch.arange(h // 2, device=device),
                       torch.arange(w // 2, device=device)]
        self.text = torch.arange(self.embeds.shape[1], device=device)

    def __call__(self, latents: Any, t: Any) -> Any:
        dtype = self.embeds.dtype
        out = self.model.unet(hidden_states=latents.permute(0, 2, 3, 1).unsqueeze(1).to(dtype),
                              encoder_hidden_states=self.embeds, pooled_projections=self.pooled,
                              timestep=t.expand(latents.shape[0]).to(dtype), visual_rope_pos=self.visual,
                              text_rope_pos=self.text, scale_factor=[1.0, 1.0, 1.0], return_dict=False)
        # without return_dict the output itself, not a tuple; made contiguous as the pipeline's reshape makes its
        # latents before decoding (a channels-last layout would take other convolution kernels in the VAE)
        return out[:, 0].permute(0, 3, 1, 2).contiguous()


def _count(shapes: Mapping[str, tuple[int, ...]], prefix: str) -> int:
    return len({k[len(prefix):].split(".", 1)[0] for k in shapes if k.startswith(prefix)})


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """Kandinsky5Transformer3DModel's config for weights of these (bare) shapes (the original key names,
    which ComfyUI's files and diffusers share): widths and block counts read off the tensors, rope axes
    from `base`, the shipped Kandinsky 5 config."""
    config = dict(base)
    config["model_dim"], features = shapes["visual_embeddings.in_layer.weight"]
    patch = 1
    for side in config["patch_size"]:
        patch *= side
    config["in_visual_dim"] = features // patch
    config["out_visual_dim"] = shapes["out_layer.out_layer.weight"][0] // patch
    config["in_text_dim"] = shapes["text_embeddings.in_layer.weight"][1]
    config["time_dim"], config["in_text_dim2"] = shapes["pooled_text_embeddings.in_layer.weight"]
    config["ff_dim"] = shapes["visual_transformer_blocks.0.feed_forward.in_layer.weight"][0]
    config["num_text_blocks"] = _count(shapes, "text_transformer_blocks.")
    config["num_visual_blocks"] = _count(shapes, "visual_transformer_blocks.")
    head_dim = shapes["visual_transformer_blocks.0.self_attention.query_norm.weight"][0]
    require_rope_width(head_dim, config["axes_dims"], "Kandinsky 5")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: the shipped one (a constant shift)."""
    return dict(base)
