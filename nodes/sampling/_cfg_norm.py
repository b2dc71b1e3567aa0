"""CFG Norm's and Renorm CFG's maths (the nodes: `nodes.sampling.cfg_norm`), applied by the comfyui
convention's denoiser."""

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


def renorm(settings: tuple[float, float], cond: Any, uncond: Any, cfg: float, sigma: float) -> Any:
    """Renorm CFG's guided denoised image in place of the plain mix (`settings` = (cfg_trunc, renorm_cfg)):
    at sigma >= cfg_trunc the positive prompt's `cond` alone; below, uncond + cfg * (cond - uncond) (`uncond`
    None: guidance skipped at cfg 1, which ComfyUI mixes with a zero negative, cfg * cond) scaled down to
    renorm_cfg times the positive prompt's norm over each whole sample when it reaches that (renorm_cfg 0: no
    limit). ComfyUI compares the norms of a batch of one; here each sample of a batch is held on its own."""
    import torch

    cfg_trunc, limit = settings
    if sigma >= cfg_trunc:
        return cond
    guided = cfg * cond if uncond is None else uncond + cfg * (cond - uncond)
    if limit <= 0.0:
        return guided
    dims = tuple(range(1, cond.ndim))
    most = torch.linalg.vector_norm(cond, dim=dims, keepdim=True) * limit
    size = torch.linalg.vector_norm(guided, dim=dims, keepdim=True)
    return torch.where(size >= most, guided * (most / size.clamp_min(1e-12)), guided)
