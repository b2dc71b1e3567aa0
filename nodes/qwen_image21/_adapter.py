"""Qwen Image 2.1's maths, written to match diffusers' QwenImage21Pipeline.

- `encode`: a prompt without pictures through Qwen3-VL (`_prompt.encode`), for the plain Text
  Encode node; TextEncodeQwenImage21 (`nodes.qwen_image21.nodes`) adds reference pictures.
- `Denoise`: the single-stream transformer on unpatched latents (one token per latent cell, the
  pipeline's `_pack_latents`), the references' tokens first and the picture's last, the timestep
  / 1000, the picture grids (`img_shapes`: references, then the picture) and the picture slots of
  the prompt with one slot per 2x2 cells of the picture appended (`img_mask`). The prompt's and
  references' keys and values are computed on the first call and reused after (`_cache`); the
  output is cut to the picture's tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.families import require_rope_width

torch = lazy("torch")


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's Qwen3-VL states and picture slots (none), as QwenImage21Pipeline.encode_prompt makes them:
    the pipeline cuts no prompt (its window is 0), so either `long_prompt` reads it whole."""
    from nodes.qwen_image21._prompt import encode as encode_prompt
    from nodes.values import CondEntry

    tokenizer, encoder = clip.part(clip.spec.encoders[0].part)
    embeds, slots = encode_prompt(tokenizer, encoder, text, [], clip.device)
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), text=text, slots=slots)


def pack(latents: Any) -> Any:
    """[B, C, h, w] -> [B, h * w, C]: one token per latent cell."""
    b, c, h, w = latents.shape
    return latents.reshape(b, c, h * w).transpose(1, 2)


class Denoise:
    """The transformer's velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        from nodes.qwen_image21._cache import prefix_cache

        h, w = size
        require_whole_cells(h, w, model.vae_scale_factor, "Qwen Image 2.1")
        if entry.slots is None:
            raise NodeError("this prompt was not encoded for Qwen Image 2.1 (use Text Encode or Text Encode "
                            "(Qwen Image 2.1) with its Qwen3-VL text encoder)", "positive")
        self.model, self.size = model, size
        embeds = entry.embeds.to(model.device, model.dtype)
        self.embeds = embeds.repeat(1, batch, 1).view(embeds.shape[0] * batch, embeds.shape[1], -1)
        slots = entry.slots.to(model.device)
        shapes, references = [], []
        for latent in entry.references:
            rh, rw = latent.shape[-2:]
            shapes.append((1, rh, rw))
            references.append(pack(latent.to(device=model.device, dtype=model.dtype)).repeat(batch, 1, 1))
        filled = sum(rh * rw for _, rh, rw in shapes)
        if filled != 4 * int(slots.sum()):
            raise NodeError(f"the prompt has {int(slots.sum())} picture slots (2x2 cells each) but its reference "
                            f"latents have {filled} cells: encode the prompt and its pictures together (Text Encode "
                            "(Qwen Image 2.1))", "positive")
        self.references = torch.cat(references, dim=1) if references else None
        self.shapes = [[*shapes, (1, h, w)]] * batch
        self.mask = torch.cat([slots, slots.new_ones(1, h * w // 4)], dim=1)
        self.cache = prefix_cache(model)
        self.calls = 0

    def __call__(self, latents: Any, t: Any) -> Any:
        b, c, h, w = latents.shape
        timestep = t.expand(b).to(latents.dtype)
        tokens = pack(latents)
        if self.references is not None:
            tokens = torch.cat([self.references, tokens], dim=1)
        mode = None if self.cache is None else "extract" if self.calls == 0 else "cached"
        out = self.model.unet(hidden_states=tokens, timestep=timestep / 1000, encoder_hidden_states=self.embeds,
                              encoder_hidden_states_mask=None, img_shapes=self.shapes, img_mask=self.mask,
                              attention_kwargs={}, kv_cache=self.cache, kv_cache_mode=mode, return_dict=False)[0]
        self.calls += 1
        return out[:, -h * w:].transpose(1, 2).reshape(b, -1, h, w)


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """QwenImage21Transformer2DModel's config for weights of these (bare) shapes (diffusers' names, or
    ComfyUI's with the SwiGLU gate and up projections fused): widths, blocks, heads, feed-forward
    ratio read off the tensors, rope axes from `base`."""
    config = dict(base)
    inner, config["in_channels"] = shapes["img_in.weight"]
    config["context_in_dim"] = shapes["txt_in.in_layer.weight"][1]
    config["num_layers"] = len({k.split(".")[1] for k in shapes if k.startswith("transformer_blocks.")})
    head_dim = shapes["transformer_blocks.0.attn.norm_q.weight"][0]
    config["attention_head_dim"], config["num_attention_heads"] = head_dim, inner // head_dim
    config["out_channels"] = shapes["proj_out.weight"][0] // config["patch_size"] ** 2
    hidden = shapes.get("transformer_blocks.0.img_mlp.out.weight")
    fused = shapes.get("transformer_blocks.0.img_mlp.gate_up.weight")
    config["mlp_ratio"] = (hidden[1] if hidden else fused[0] // 2) // inner
    require_rope_width(head_dim, config["axes_dims_rope"], "Qwen Image 2.1")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: the shipped one (dynamic shift)."""
    return dict(base)


def folder_scheduler(folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """A pipeline folder's scheduler as its pipeline runs it: the noise levels model_index.json may set
    (`sample_sigmas`, a Turbo's few steps) go with it (`nodes.sampling._flow_loop` passes them)."""
    import json

    own = json.loads((folder / "model_index.json").read_text("utf-8")).get("sample_sigmas")
    return config | {"sample_sigmas": [float(s) for s in own]} if own else config
