"""diffusers' own pipelines on the tiny models: the reference our graphs must match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Our sampler / scheduler names -> (diffusers scheduler class name, extra config), spelled out
#: independently of nodes.sampling._loop so the parity tests check that mapping too.
REFERENCE_SCHEDULERS = {
    ("euler", "normal"): ("EulerDiscreteScheduler", {}),
    ("euler_ancestral", "normal"): ("EulerAncestralDiscreteScheduler", {}),
    ("dpmpp_2m", "karras"): ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    ("ddim", "normal"): ("DDIMScheduler", {}),
    ("dpmpp_sde", "karras"): ("DPMSolverSDEScheduler", {"use_karras_sigmas": True}),
    ("uni_pc", "normal"): ("UniPCMultistepScheduler", {}),
    ("heun", "normal"): ("HeunDiscreteScheduler", {}),
}

_cache: dict[tuple[str, str], Any] = {}


def settled(pipe: Any) -> Any:
    """`pipe` with its weights laid out as NodeFlow's loaders lay them out (aligned storage).

    Bit-exact parity holds by construction only for the same memory layout: a tensor at an
    unaligned address (as a mapped safetensors file leaves some) takes another CPU kernel path
    and sums in another order (see nodes.models._precision).
    """
    import torch

    from nodes.models._precision import settle

    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            settle(component, "cpu")
    return pipe


def pipeline(kind: str, folder: Path) -> Any:
    import diffusers

    key = (kind, str(folder))
    if key not in _cache:
        cls = {"txt2img": diffusers.StableDiffusionPipeline, "img2img": diffusers.StableDiffusionImg2ImgPipeline,
               "inpaint": diffusers.StableDiffusionInpaintPipeline}[kind]
        pipe = cls.from_pretrained(folder, safety_checker=None, requires_safety_checker=False,
                                   local_files_only=True)
        pipe = settled(pipe)
        pipe.set_progress_bar_config(disable=True)
        _cache[key] = (pipe, dict(pipe.scheduler.config))
    return _cache[key]


def with_scheduler(kind: str, folder: Path, sampler: str, scheduler: str, seed: int = 0) -> Any:
    import diffusers

    pipe, config = pipeline(kind, folder)
    name, extra = REFERENCE_SCHEDULERS[(sampler, scheduler)]
    if name == "DPMSolverSDEScheduler":
        extra = extra | {"noise_sampler_seed": seed}
    pipe.scheduler = getattr(diffusers, name).from_config(config, **extra)
    return pipe


def generator(seed: int) -> Any:
    import torch

    return torch.Generator("cpu").manual_seed(seed)


def as_uint8(pil_images: list) -> Any:
    import numpy as np

    return np.stack([np.array(p) for p in pil_images])
