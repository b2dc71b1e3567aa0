"""The two sampling conventions a sampler node can follow, and the one place that picks between them.

- "diffusers" (native nodes' default): the checkpoint's diffusers scheduler runs the loop, so a
  graph gives the same pixels as diffusers' own pipelines (`nodes.sampling._loop`).
- "comfyui" (set by the ComfyUI importer): ComfyUI's schedules from the model's sigma table, its
  start scaling, integer timesteps, noise streams and `denoise` meaning, with k-diffusion samplers
  (`nodes.sampling._comfy_sampling`), so an imported workflow gives ComfyUI's pixels.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.values import Guider, Model, NoiseSource, SamplerChoice, Schedule, Sigmas

torch = lazy("torch")
diffusers = lazy("diffusers")

CONVENTIONS = ("diffusers", "comfyui")
CONVENTION_HELP = ("diffusers: the same pixels as diffusers' pipelines (NodeFlow's own). comfyui: the same "
                   "pixels as ComfyUI (its schedules, noise and samplers); workflows imported from ComfyUI "
                   "use it.")


def check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise NodeError(f"unknown convention '{convention}' (known: {', '.join(CONVENTIONS)})", "convention")


def check_names(convention: str, sampler: str | None, scheduler: str | None) -> None:
    """One clear line when a sampler or scheduler name does not exist in the chosen convention."""
    check_convention(convention)
    if convention == "comfyui":
        from nodes.sampling._comfy_sampling import SAMPLER_NAMES
        from nodes.sampling._sigma_schedules import SCHEDULER_NAMES
    else:
        from nodes.sampling._schedulers import SAMPLER_NAMES
        from nodes.sampling._schedulers import SCHEDULE_NAMES as SCHEDULER_NAMES
    if sampler is not None and sampler not in SAMPLER_NAMES:
        raise NodeError(f"sampler '{sampler}' is not available in the {convention} convention "
                        f"(available: {', '.join(SAMPLER_NAMES)})", "sampler_name")
    if scheduler is not None and scheduler not in SCHEDULER_NAMES:
        raise NodeError(f"scheduler '{scheduler}' is not available in the {convention} convention "
                        f"(available: {', '.join(SCHEDULER_NAMES)})", "scheduler")


def comfy_sigmas(model: Model, scheduler: str, steps: int, denoise: float, sampler: str = "") -> Any:
    """ComfyUI's sigmas for a model: its table, the named schedule, `denoise` as ComfyUI means it."""
    from nodes.sampling._comfy_sampling import sigma_table
    from nodes.sampling._sigma_schedules import with_denoise

    return with_denoise(sigma_table(model), scheduler, int(steps), float(denoise), sampler)


def diffusers_sigmas(model: Model, schedule: Schedule) -> Any:
    """The noise levels of a diffusers schedule (its Euler-type sigmas), from the checkpoint's config."""
    from nodes.sampling._schedulers import SCHEDULES, _from_config
    from nodes.sampling._schedulers import start_index as diffusers_start

    config = model.scheduler_config
    overrides = {"use_karras_sigmas": False, "use_exponential_sigmas": False, "use_beta_sigmas": False}
    overrides |= SCHEDULES[schedule.scheduler]
    scheduler = _from_config(diffusers.EulerDiscreteScheduler, config, overrides)
    scheduler.set_timesteps(int(schedule.steps))
    t_start, _ = diffusers_start(int(schedule.steps), float(schedule.denoise))
    return scheduler.sigmas[t_start:].float().cpu()


def run(ctx: RunContext, guider: Guider, sampler: SamplerChoice, sigmas: Sigmas, noise: NoiseSource,
        latent: dict) -> dict:
    """Sample with a diffusers schedule when the sigmas are one, else with ComfyUI's k-samplers."""
    return run_both(ctx, guider, sampler, sigmas, noise, latent)[0]


def run_both(ctx: RunContext, guider: Guider, sampler: SamplerChoice, sigmas: Sigmas, noise: NoiseSource,
             latent: dict) -> tuple[dict, dict]:
    """(the sampled LATENT, the last step's denoised prediction as a LATENT). A diffusers schedule ends at
    noise level 0, where the sample is its own prediction, so both are the sample there."""
    if sigmas.schedule is not None:
        from nodes.sampling._loop import sample

        check_names("diffusers", sampler.name, sigmas.schedule.scheduler)
        result = sample(ctx, guider, sampler, sigmas.schedule, noise, latent)
        return result, result
    from nodes.sampling._comfy_sampling import sample_both

    return sample_both(ctx, guider, sampler, sigmas.values, noise, latent)
