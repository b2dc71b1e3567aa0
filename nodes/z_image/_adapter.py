"""Z-Image's maths, written to match diffusers' ZImagePipeline.

- `encode`: the prompt through Qwen3's chat template (thinking on), the second-to-last hidden
  states of its attended tokens only (`nodes.conditioning._language_prompts.Z_IMAGE`).
- `Denoise`: the transformer takes a list of [C, 1, h, w] latents (it patches them itself) and a
  list of captions; its timestep runs the other way ((1000 - t) / 1000) and it predicts the
  negated velocity, which is turned back here, before guidance. ZImagePipeline's guidance
  `pos + g * (pos - neg)` is the usual `neg + cfg * (pos - neg)` with cfg = g + 1, on when g > 0:
  NodeFlow's cfg is ComfyUI's, so its pipeline's guidance_scale g is cfg - 1.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy

torch = lazy("torch")


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None) -> Any:
    """One prompt's Qwen3 states, as ZImagePipeline._encode_prompt makes them."""
    from nodes.conditioning._language_prompts import Z_IMAGE
    from nodes.conditioning._language_prompts import encode as encode_language
    from nodes.values import CondEntry

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    embeds, _ = encode_language(Z_IMAGE, tokenizer, encoder, text, clip.device)
    return CondEntry(embeds=embeds.to(dtype=encoder.dtype), text=text)


def _check_size(h: int, w: int, factor: int) -> None:
    if h % 2 or w % 2:
        raise NodeError(f"Z-Image patches 2x2 latent cells: width and height must be multiples of {2 * factor} "
                        f"pixels (this latent is {w * factor}x{h * factor})", "latent_image")


class Denoise:
    """The velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        _check_size(*size, model.vae_scale_factor)
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
    out = model.unet(pictures, timestep, captions, return_dict=False)[0]
    return -torch.stack([o.float() for o in out], dim=0).squeeze(2)
