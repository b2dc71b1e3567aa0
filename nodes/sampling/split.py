"""Split sampling and hand-made noise levels: KSampler Advanced, Split Sigmas, Karras / Exponential
schedulers and Basic Guider.

A run split over two samplers (SDXL base + refiner, or a prompt change half-way) is two KSampler
Advanced nodes over the same schedule: the first runs steps [0, k) and returns its latent with the
leftover noise, the second runs [k, n) without adding noise. For deterministic one-step samplers
(euler, heun, dpm_2, ddim) the result is the same picture as one sampler over n steps; multistep
samplers (dpmpp_2m, lms, uni_pc) restart their history at the split, as in ComfyUI.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import BOOLEAN, CONDITIONING, FLOAT, GUIDER, INT, LATENT, MODEL, SIGMAS, STRING
from nodes.sampling._convention import CONVENTION_HELP, CONVENTIONS
from nodes.sampling.sampler import SAMPLER_CHOICES, SCHEDULER_CHOICES, SEED_MAX

_SIGMA_HELP = ("Noise levels made by hand run with the k-diffusion samplers of the ComfyUI convention "
               "(Sample's sampler must be one of its names).")


class KSamplerAdvanced(Node):
    type_id = "sampling.sampler_advanced"
    title = "KSampler (Advanced)"
    category = "sampling"
    description = (
        "The Sampler with control over which steps run, to split one run over two samplers: steps "
        "[start_at_step, end_at_step) of a steps-step schedule. add_noise off continues a latent "
        "that still holds noise (the second half of a split); return_with_leftover_noise on hands "
        "that noise on (the first half). With it off, an early end denoises fully at its last step."
    )
    inputs = (
        Input("model", MODEL),
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING, optional=True, help="Needed when cfg is not 1."),
        Input("latent_image", LATENT),
        Input("add_noise", BOOLEAN, default=True, help="Add the seed's noise at the start."),
        Input("noise_seed", INT, default=0, min=0, max=SEED_MAX, seed=True),
        Input("steps", INT, default=20, min=1, max=1000, help="Steps of the whole schedule."),
        Input("cfg", FLOAT, default=7.0, min=0.0, max=100.0, step=0.1),
        Input("sampler_name", STRING, default="euler", choices=SAMPLER_CHOICES),
        Input("scheduler", STRING, default="normal", choices=SCHEDULER_CHOICES),
        Input("start_at_step", INT, default=0, min=0, max=10000),
        Input("end_at_step", INT, default=10000, min=0, max=10000,
              help="Stop before this step (anything past steps means the end)."),
        Input("return_with_leftover_noise", BOOLEAN, default=False),
        Input("convention", STRING, default="diffusers", choices=CONVENTIONS, help=CONVENTION_HELP),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, model: Any, positive: Any, negative: Any, latent_image: dict,
            add_noise: bool, noise_seed: int, steps: int, cfg: float, sampler_name: str, scheduler: str,
            start_at_step: int, end_at_step: int, return_with_leftover_noise: bool,
            convention: str) -> tuple[dict]:
        from nodes.sampling._convention import check_names
        from nodes.values import Guider, NoiseSource, SamplerChoice, Schedule, Sigmas

        check_names(convention, sampler_name, scheduler)
        guider = Guider(model, positive, negative, float(cfg))
        noise = NoiseSource(int(noise_seed), enabled=bool(add_noise))
        choice = SamplerChoice(sampler_name)
        if convention == "comfyui":
            from nodes.sampling._comfy_sampling import sample, sigma_table
            from nodes.sampling._sigma_schedules import advanced_range, ksampler_sigmas

            sigmas = ksampler_sigmas(sigma_table(model), scheduler, int(steps), sampler_name)
            sigmas = advanced_range(sigmas, int(start_at_step), int(end_at_step), bool(return_with_leftover_noise))
            return (sample(ctx, guider, choice, sigmas, noise, latent_image),)
        from nodes.sampling._convention import run as run_convention

        end = min(int(end_at_step), int(steps))
        if int(start_at_step) >= end:
            return ({**latent_image},)
        schedule = Schedule(scheduler, int(steps), 1.0, int(start_at_step), end, bool(return_with_leftover_noise))
        return (run_convention(ctx, guider, choice, Sigmas(None, schedule), noise, latent_image),)


class SplitSigmas(Node):
    type_id = "sampling.split_sigmas"
    title = "Split Sigmas"
    category = "sampling/custom"
    description = ("Cuts noise levels at a step: high_sigmas are steps [0, step), low_sigmas the rest; "
                   "they share the level at the cut, so two Sample nodes continue each other. " + _SIGMA_HELP)
    inputs = (Input("sigmas", SIGMAS), Input("step", INT, default=0, min=0, max=10000))
    outputs = (Output("high_sigmas", SIGMAS), Output("low_sigmas", SIGMAS))

    def run(self, ctx: RunContext, sigmas: Any, step: int) -> tuple[Any, Any]:
        from nodes.values import Sigmas

        if sigmas.values is None:
            raise NodeError("these sigmas are a diffusers schedule made without a model; connect the "
                            "Scheduler's model input", "sigmas")
        values = sigmas.values
        return Sigmas(values[:int(step) + 1]), Sigmas(values[int(step):])


class KarrasScheduler(Node):
    type_id = "sampling.karras_scheduler"
    title = "Karras Scheduler"
    category = "sampling/custom"
    description = ("Noise levels spaced as Karras et al. 2022 (eq. 5): dense near sigma_min, then 0. The "
                   "defaults are SD 1.x/2.x's range. " + _SIGMA_HELP)
    inputs = (
        Input("steps", INT, default=20, min=1, max=10000),
        Input("sigma_max", FLOAT, default=14.614642, min=0.0, max=5000.0, step=0.01),
        Input("sigma_min", FLOAT, default=0.0291675, min=0.0, max=5000.0, step=0.01),
        Input("rho", FLOAT, default=7.0, min=0.0, max=100.0, step=0.01),
    )
    outputs = (Output("sigmas", SIGMAS),)

    def run(self, ctx: RunContext, steps: int, sigma_max: float, sigma_min: float, rho: float) -> tuple[Any]:
        from nodes.sampling._sigma_schedules import karras
        from nodes.values import Sigmas

        _check_range(sigma_min, sigma_max)
        if rho <= 0:
            raise NodeError("rho must be above 0", "rho")
        return (Sigmas(karras(int(steps), float(sigma_min), float(sigma_max), float(rho))),)


class ExponentialScheduler(Node):
    type_id = "sampling.exponential_scheduler"
    title = "Exponential Scheduler"
    category = "sampling/custom"
    description = "Noise levels evenly spaced in log sigma from sigma_max to sigma_min, then 0. " + _SIGMA_HELP
    inputs = (
        Input("steps", INT, default=20, min=1, max=10000),
        Input("sigma_max", FLOAT, default=14.614642, min=0.0, max=5000.0, step=0.01),
        Input("sigma_min", FLOAT, default=0.0291675, min=0.0, max=5000.0, step=0.01),
    )
    outputs = (Output("sigmas", SIGMAS),)

    def run(self, ctx: RunContext, steps: int, sigma_max: float, sigma_min: float) -> tuple[Any]:
        from nodes.sampling._sigma_schedules import exponential
        from nodes.values import Sigmas

        _check_range(sigma_min, sigma_max)
        return (Sigmas(exponential(int(steps), float(sigma_min), float(sigma_max))),)


def _check_range(sigma_min: float, sigma_max: float) -> None:
    if sigma_min <= 0:
        raise NodeError("sigma_min must be above 0", "sigma_min")
    if sigma_max <= sigma_min:
        raise NodeError(f"sigma_max ({sigma_max:g}) must be above sigma_min ({sigma_min:g})", "sigma_max")


class BasicGuider(Node):
    type_id = "sampling.basic_guider"
    title = "Basic Guider"
    category = "sampling/custom"
    description = ("Guidance by one conditioning alone (cfg 1: one model call per step), for models "
                   "distilled not to need a negative prompt, or for flux-style guidance embedded in the "
                   "conditioning.")
    inputs = (Input("model", MODEL), Input("conditioning", CONDITIONING))
    outputs = (Output("guider", GUIDER),)

    def run(self, ctx: RunContext, model: Any, conditioning: Any) -> tuple[Any]:
        from nodes.values import Guider

        return (Guider(model, conditioning, None, 1.0),)
