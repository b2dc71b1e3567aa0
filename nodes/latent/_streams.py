"""A LATENT that carries a second stream beside its "samples": the one place the sampling loops learn
how to denoise both together.

LTX-2 makes a video and its soundtrack in one run (`nodes.ltx2._av`: "samples" [B, C, frames, h, w]
and "audio_samples" [B, C', length, bins], each with an optional noise mask). Its pipeline steps both
with the same noise levels, elementwise, so the loops (`_flow_loop`, `_comfy_sampling`) hold the pair
as one tensor [B, video numbers + audio numbers] (each stream flattened per batch item, the video
first), and the family's denoiser call, told the `Joint` layout, splits it and joins its outputs.
Every random number is drawn per stream, video first, from one generator: the pipeline's order. A
family whose soundtrack runs on its own schedule keeps it in the video's noise levels by scaling its
start noise (`Joint.scales`, from the adapter's `stream_noise_scales`; MiniMax H3's, `nodes.minimax_h3._denoise`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy

torch = lazy("torch")

#: (samples key, noise mask key) of each stream, in the order they are joined and drawn.
STREAMS = (("samples", "noise_mask"), ("audio_samples", "audio_noise_mask"))


@dataclass(frozen=True)
class Joint:
    """The shapes (batch first) of a LATENT's streams, and how they sit in one joined tensor."""

    shapes: tuple[tuple[int, ...], ...]
    #: The run's joined noise mask (1 = generate), where the family's denoiser reads it (`mask_keeps_clean`).
    mask: Any = None
    #: Each stream's start-noise factor (none: 1 each).
    scales: tuple[float, ...] = ()

    @property
    def video(self) -> tuple[int, ...]:
        """The first stream's shape ([B, C, frames, h, w]): what sizes, previews and schedules go by."""
        return self.shapes[0]

    def join(self, tensors: Any) -> Any:
        """[B, N] of the streams' tensors, each flattened per batch item, in order."""
        return torch.cat([t.reshape(t.shape[0], -1) for t in tensors], dim=1)

    def split(self, joined: Any) -> tuple[Any, ...]:
        """The streams' tensors of a joined one (any batch: a batched CFG call doubles it)."""
        sizes = [math.prod(s[1:]) for s in self.shapes]
        return tuple(part.reshape(joined.shape[0], *s[1:]) for part, s in
                     zip(joined.split(sizes, dim=1), self.shapes, strict=True))

    def randn(self, generator: Any, device: Any, dtype: Any) -> Any:
        """Gaussian noise for each stream in order from one generator, joined."""
        from diffusers.utils.torch_utils import randn_tensor

        drawn = [randn_tensor(s, generator=generator, device=device, dtype=dtype) for s in self.shapes]
        return self.join([d * f for d, f in zip(drawn, self.scales, strict=True)] if self.scales else drawn)

    def masks(self, latent: dict, batch: int) -> Any:
        """The streams' noise masks joined (1 = generate; a stream without one is generated whole), or None
        when neither stream has one."""
        masks = [latent.get(key) for _, key in STREAMS]
        if all(m is None for m in masks):
            return None
        parts = []
        for mask, shape in zip(masks, self.shapes, strict=True):
            full = (batch, *shape[1:])
            if mask is None:
                parts.append(torch.ones(full))
                continue
            mask = mask.float()
            if mask.shape[0] < batch:
                mask = mask.repeat(batch // mask.shape[0], *([1] * (mask.ndim - 1)))
            if mask.ndim != len(shape) or any(m not in (1, s) for m, s in zip(mask.shape[1:], shape[1:], strict=True)):
                raise NodeError(f"a noise mask of shape {tuple(mask.shape)} does not fit a latent of {shape}",
                                "latent_image")
            parts.append(mask.expand(full))
        return self.join(parts)

    def to_latent(self, joined: Any) -> dict:
        """The LATENT entries ("samples", "audio_samples") of a joined tensor."""
        return {key: part for (key, _), part in zip(STREAMS, self.split(joined), strict=True)}


def of(latent: dict, model: Any = None) -> Joint | None:
    """The layout of a LATENT with a second stream (with `model`'s family's start-noise scales), or None
    for a plain one."""
    if latent.get(STREAMS[1][0]) is None:
        return None
    samples, audio = latent[STREAMS[0][0]], latent[STREAMS[1][0]]
    if audio.shape[0] != samples.shape[0]:
        raise NodeError(f"the soundtrack's batch ({audio.shape[0]}) differs from the video's ({samples.shape[0]})",
                        "latent_image")
    spec = getattr(model, "spec", None)
    scales = getattr(spec.module(), "stream_noise_scales", None) if spec is not None else None
    return Joint((tuple(samples.shape), tuple(audio.shape)), scales=tuple(scales(model)) if scales else ())


def guidance_scale(cfg: float, stream_cfg: tuple[float, ...], joint: Joint | None, device: Any) -> Any:
    """The classifier-free guidance scale over the tensor a loop denoises: `cfg`, or, over a joined latent,
    each stream's own scale on its numbers ([1, N], float32), as LTX2Pipeline's guidance_scale and
    audio_guidance_scale and ComfyUI's LTXV Dual CFG Guider apply them. A plain latent takes the first stream's
    (ComfyUI's guider falls back to its video scale there)."""
    if not stream_cfg:
        return float(cfg)
    if joint is None:
        return float(stream_cfg[0])
    if len(stream_cfg) != len(joint.shapes):
        raise NodeError(f"{len(stream_cfg)} guidance scales for a latent of {len(joint.shapes)} streams", "guider")
    sizes = [math.prod(s[1:]) for s in joint.shapes]
    return torch.cat([torch.full((1, n), float(c), dtype=torch.float32, device=device)
                      for n, c in zip(sizes, stream_cfg, strict=True)], dim=1)


def joined(latent: dict, joint: Joint | None) -> Any:
    """The tensor a loop denoises: the samples, or the streams joined."""
    if joint is None:
        return latent[STREAMS[0][0]]
    return joint.join([latent[key] for key, _ in STREAMS])
