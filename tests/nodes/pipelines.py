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


def pipeline(kind: str, folder: Path) -> Any:
    import diffusers

    key = (kind, str(folder))
    if key not in _cache:
        cls = {"txt2img": diffusers.StableDiffusionPipeline, "img2img": diffusers.StableDiffusionImg2ImgPipeline,
               "inpaint": diffusers.StableDiffusionInpaintPipeline}[kind]
        pipe = cls.from_pretrained(folder, safety_checker=None, requires_safety_checker=False,
                                   local_files_only=True)
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
