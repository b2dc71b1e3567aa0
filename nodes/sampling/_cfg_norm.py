"""CFG Norm's maths (the node: `nodes.sampling.cfg_norm`), applied by the comfyui convention's denoiser."""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError


def apply(norm: tuple[float, bool], x: Any, cond: Any, uncond: Any, guided: Any, cfg: float) -> Any:
    """The guided denoised image after CFG Norm (`norm` = (strength, pre_cfg)); `cond` and `uncond`
    are the prompts' denoised images (`uncond` None when guidance was skipped), norms over dim 1."""
    import torch

    strength, pre_cfg = norm
    if not pre_cfg:
        scale = (torch.norm(cond, dim=1, keepdim=True) / (torch.norm(guided, dim=1, keepdim=True) + 1e-8))
        out = guided * scale.clamp(min=0.0, max=1.0) * strength
        if strength > 1.0 and not torch.isfinite(out).all():
            raise NodeError(f"strength {strength:g} grew the prediction past the number range (it multiplies it at "
                            "every step); use 1 or less", "strength")
        return out
    positive = x - cond
    mixed = positive if uncond is None else (x - uncond) + cfg * (positive - (x - uncond))
    size = torch.linalg.vector_norm(mixed, dim=1, keepdim=True)
    rescale = torch.where(size > 0, torch.linalg.vector_norm(positive, dim=1, keepdim=True) / size.clamp_min(1e-12),
                          torch.ones_like(size))
    rescaled = mixed * rescale
    if strength != 1.0:
        rescaled = strength * rescaled + (1.0 - strength) * mixed
    return x - rescaled
