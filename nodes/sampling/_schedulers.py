"""Sampler and scheduler names -> diffusers schedulers, built from the checkpoint's own config.

ComfyUI's sampler names map to diffusers scheduler classes (`SAMPLERS`) and its scheduler names to
config values (`SCHEDULES`); `make_scheduler` combines them with the checkpoint's scheduler config,
so prediction type, betas and timestep spacing carry over. Importing this module is cheap (torch and
diffusers load lazily), so the sampling nodes take their choice lists from here.
"""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodeflow.core.comfy_samplers import DIFFUSERS_SAMPLERS
from nodes._lazy import lazy
from nodes.values import Model, SamplerChoice, Schedule

torch = lazy("torch")
diffusers = lazy("diffusers")

#: ComfyUI's sampler names -> (diffusers scheduler class, forced config values).
SAMPLERS: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "dpm_2": ("KDPM2DiscreteScheduler", {}),
    "dpm_2_ancestral": ("KDPM2AncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "dpmpp_2m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "dpmpp_sde": ("DPMSolverSDEScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "ddpm": ("DDPMScheduler", {}),
    "uni_pc": ("UniPCMultistepScheduler", {}),
    "deis": ("DEISMultistepScheduler", {}),
}
SAMPLER_NAMES = DIFFUSERS_SAMPLERS
#: ComfyUI's scheduler names -> diffusers config values ("normal" keeps the checkpoint's spacing).
SCHEDULES: dict[str, dict[str, Any]] = {
    "normal": {},
    "karras": {"use_karras_sigmas": True},
    "exponential": {"use_exponential_sigmas": True},
    "beta": {"use_beta_sigmas": True},
    "sgm_uniform": {"timestep_spacing": "trailing"},
}
SCHEDULE_NAMES = tuple(SCHEDULES)
_SIGMA_FLAGS = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")
ANCESTRAL = {"euler_ancestral"}


def scheduler_class(name: str) -> Any:
    if name not in SAMPLERS:
        raise NodeError(f"unknown sampler '{name}' (known: {', '.join(SAMPLER_NAMES)})", "sampler_name")
    return getattr(diffusers, SAMPLERS[name][0])


def make_scheduler(ctx: RunContext, model: Model, sampler: SamplerChoice, schedule: Schedule,
                   seed: int) -> Any:
    """The diffusers scheduler for a sampler + schedule, built from the checkpoint's own config.

    `from_config` carries the prediction type, betas, zero-terminal-SNR rescaling and timestep
    spacing over, so epsilon and v-prediction checkpoints both just work.
    """
    cls = scheduler_class(sampler.name)
    accepted = set(inspect.signature(cls.__init__).parameters)
    if schedule.scheduler not in SCHEDULES:
        raise NodeError(f"unknown scheduler '{schedule.scheduler}' (known: {', '.join(SCHEDULE_NAMES)})",
                        "scheduler")
    overrides = dict(SAMPLERS[sampler.name][1])
    wanted = SCHEDULES[schedule.scheduler]
    for key in wanted:
        if key not in accepted:
            raise NodeError(f"the {sampler.name} sampler ({cls.__name__}) does not support the "
                            f"'{schedule.scheduler}' scheduler; pick 'normal'", "scheduler")
    overrides |= {flag: False for flag in _SIGMA_FLAGS if flag in accepted}
    overrides |= wanted
    if "noise_sampler_seed" in accepted:
        overrides["noise_sampler_seed"] = int(seed)  # DPMSolverSDE draws its Brownian noise itself
    config = model.scheduler_config
    if config.get("rescale_betas_zero_snr") and "rescale_betas_zero_snr" not in accepted:
        ctx.warn(f"this model uses a zero-terminal-SNR schedule, which diffusers' {cls.__name__} "
                 f"({sampler.name}) does not support; expect poor results, or pick euler, "
                 "euler_ancestral, dpmpp_2m, ddim, ddpm or uni_pc")
    if sampler.name in ANCESTRAL:
        cls = _euler_ancestral_with_eta()
    scheduler = _from_config(cls, config, overrides)
    if sampler.name in ANCESTRAL:
        scheduler.eta = float(sampler.eta)
    return scheduler


_prototypes: dict[str, Any] = {}


def _from_config(cls: Any, config: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """`cls.from_config(config, **overrides)`, built once and copied after (5x cheaper)."""
    key = json.dumps([cls.__name__, config, overrides], sort_keys=True, default=str)
    if key not in _prototypes:
        if len(_prototypes) > 64:
            _prototypes.clear()
        _prototypes[key] = cls.from_config(config, **overrides)
    return copy.deepcopy(_prototypes[key])


_eta_class: Any = None


def _euler_ancestral_with_eta() -> Any:
    """diffusers' Euler ancestral (eta 1) with k-diffusion's eta: how much fresh noise a step adds.

    eta = 1 runs diffusers' own step unchanged (so pixels match the pipeline); eta = 0 is plain Euler.
    """
    global _eta_class
    if _eta_class is not None:
        return _eta_class
    from diffusers import EulerAncestralDiscreteScheduler
    from diffusers.utils.torch_utils import randn_tensor

    class EulerAncestralEta(EulerAncestralDiscreteScheduler):
        eta = 1.0

        def step(self, model_output, timestep, sample, generator=None, return_dict=True):
            if self.eta == 1.0:
                return super().step(model_output, timestep, sample, generator=generator, return_dict=return_dict)
            if self.step_index is None:
                self._init_step_index(timestep)
            sigma = self.sigmas[self.step_index]
            sample = sample.to(torch.float32)
            if self.config.prediction_type == "epsilon":
                pred_original_sample = sample - sigma * model_output
            elif self.config.prediction_type == "v_prediction":
                pred_original_sample = model_output * (-sigma / (sigma**2 + 1) ** 0.5) + (sample / (sigma**2 + 1))
            else:
                raise ValueError(f"prediction_type {self.config.prediction_type} is not supported")
            sigma_to = self.sigmas[self.step_index + 1]
            sigma_up = torch.minimum(
                sigma_to, self.eta * (sigma_to**2 * (sigma**2 - sigma_to**2) / sigma**2) ** 0.5)
            sigma_down = (sigma_to**2 - sigma_up**2) ** 0.5
            prev_sample = sample + (sample - pred_original_sample) / sigma * (sigma_down - sigma)
            if self.eta > 0:
                noise = randn_tensor(model_output.shape, dtype=model_output.dtype,
                                     device=model_output.device, generator=generator)
                prev_sample = prev_sample + noise * sigma_up
            prev_sample = prev_sample.to(model_output.dtype)
            self._step_index += 1
            return (prev_sample, pred_original_sample)

    _eta_class = EulerAncestralEta
    return _eta_class


def start_index(steps: int, denoise: float) -> tuple[int, int]:
    """(t_start, steps actually run): diffusers' img2img `strength` arithmetic for `denoise`."""
    init_timestep = min(int(steps * denoise), steps)
    t_start = max(steps - init_timestep, 0)
    return t_start, steps - t_start


def step_range(schedule: Schedule) -> tuple[int, int, bool]:
    """(first step, end step, whether the run starts from pure noise) of a schedule.

    The Sampler's `denoise` runs the last int(steps * denoise) steps (diffusers' img2img strength);
    KSampler Advanced names its steps [start_step, end_step) directly.
    """
    steps = int(schedule.steps)
    if schedule.end_step is None:
        t_start, run_steps = start_index(steps, float(schedule.denoise))
        if run_steps < 1:
            raise NodeError(f"denoise {schedule.denoise:g} of {steps} steps leaves no step to run "
                            f"(int(steps * denoise) = 0); raise denoise or steps", "denoise")
        return t_start, steps, float(schedule.denoise) >= 1.0
    end = min(int(schedule.end_step), steps)
    if int(schedule.start_step) >= end:
        raise NodeError(f"start_at_step {schedule.start_step} leaves no step before step {end}", "start_at_step")
    return int(schedule.start_step), end, int(schedule.start_step) == 0


#: diffusers schedulers whose step to a sigma of 0 is a plain full denoise (one sigma per step).
ZERO_END = frozenset({"euler", "euler_ancestral", "lms"})


def end_at_zero(scheduler: Any, sampler: str, end: int) -> None:
    """Make the step that ends at step `end` go to sigma 0 (KSampler Advanced without leftover noise)."""
    if sampler not in ZERO_END:
        raise NodeError(f"ending early with a full denoise needs euler, euler_ancestral or lms in the "
                        f"diffusers convention ({sampler} keeps state across steps); turn on "
                        f"return_with_leftover_noise or use the comfyui convention", "end_at_step")
    scheduler.sigmas = scheduler.sigmas.clone()
    scheduler.sigmas[end] = 0.0
