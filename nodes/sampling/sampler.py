"""Sampling nodes: the all-in-one Sampler and the parts for custom sampling.

Each sampler node follows a convention (`nodes.sampling._convention`). In the default "diffusers" one,
samplers are diffusers schedulers built from the checkpoint's own scheduler config, so epsilon and
v-prediction models, zero-terminal-SNR and timestep spacing carry over, and `denoise` has diffusers'
img2img `strength` meaning: of a `steps`-step schedule, the last int(steps * denoise) steps run.
In the "comfyui" one (imported workflows) everything follows ComfyUI, `denoise` included: `steps`
steps run at the low end of an int(steps / denoise)-step schedule.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import (
    CONDITIONING,
    FLOAT,
    GUIDER,
    INT,
    LATENT,
    MODEL,
    NOISE,
    SAMPLER,
    SEED_MAX,
    SIGMAS,
    STRING,
)
from nodes.sampling._comfy_sampling import SAMPLER_NAMES as COMFY_SAMPLER_NAMES
from nodes.sampling._convention import CONVENTION_HELP, CONVENTIONS
from nodes.sampling._schedulers import SAMPLER_NAMES
from nodes.sampling._schedulers import SCHEDULE_NAMES as SCHEDULER_NAMES
from nodes.sampling._sigma_schedules import SCHEDULER_NAMES as COMFY_SCHEDULER_NAMES

#: Every name either convention knows (each node checks its own convention's names when it runs).
SAMPLER_CHOICES = SAMPLER_NAMES + tuple(n for n in COMFY_SAMPLER_NAMES if n not in SAMPLER_NAMES)
SCHEDULER_CHOICES = SCHEDULER_NAMES + tuple(n for n in COMFY_SCHEDULER_NAMES if n not in SCHEDULER_NAMES)

_DENOISE_HELP = ("How much of the picture to redo, as diffusers' img2img 'strength': the last "
                 "int(steps * denoise) steps of a steps-step schedule run, so 20 steps at 0.5 run 10. "
                 "1 starts from pure noise (text-to-image). In the comfyui convention, as ComfyUI: "
                 "steps steps run at the end of an int(steps / denoise)-step schedule.")
_SAMPLER_HELP = ("euler: fast, deterministic. euler_ancestral: adds fresh noise each step (more variety). "
                 "dpmpp_2m (with karras): sharp in few steps. dpmpp_sde: stochastic, needs torchsde. "
                 "ddim/ddpm/uni_pc/heun/lms/dpm_2/deis: the diffusers schedulers of those names. The "
                 "comfyui convention adds dpmpp_3m_sde, dpmpp_2m_sde_heun, lcm and uni_pc_bh2 (no deis).")
_SCHEDULER_HELP = ("Spacing of the noise levels: normal (the checkpoint's own), karras, exponential, "
                   "beta, sgm_uniform (trailing). Not every sampler supports every spacing. The comfyui "
                   "convention reads ComfyUI's schedules from the model's sigma table and adds simple, "
                   "ddim_uniform, linear_quadratic and kl_optimal.")


class Sampler(Node):
    type_id = "sampling.sampler"
    title = "Sampler"
    category = "sampling"
    infotext = {"seed": "seed", "steps": "steps", "cfg": "cfg", "sampler_name": "sampler", "scheduler": "scheduler",
                "denoise": "denoise", "positive": "positive", "negative": "negative"}
    description = (
        "Denoises a latent guided by prompts: text-to-image from Empty Latent, image-to-image from "
        "VAE Encode (denoise < 1), inpainting from VAE Encode for Inpaint or Set Latent Noise Mask. "
        "Gives the same pixels as diffusers' own pipelines for the same settings and seed. "
        + _DENOISE_HELP
    )
    inputs = (
        Input("model", MODEL),
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING, optional=True, help="Needed when cfg is above 1."),
        Input("latent_image", LATENT),
        Input("seed", INT, default=0, min=0, max=SEED_MAX, seed=True,
              help="The same seed and settings give the same picture, on any device."),
        Input("steps", INT, default=20, min=1, max=1000, help="More steps: finer detail, slower."),
        Input("cfg", FLOAT, default=7.0, min=0.0, max=100.0, step=0.1,
              help="Classifier-free guidance: how strongly to follow the prompt. 1 = no guidance "
                   "(one model call per step instead of two)."),
        Input("sampler_name", STRING, default="euler", choices=SAMPLER_CHOICES, help=_SAMPLER_HELP),
        Input("scheduler", STRING, default="normal", choices=SCHEDULER_CHOICES, help=_SCHEDULER_HELP),
        Input("denoise", FLOAT, default=1.0, min=0.0, max=1.0, step=0.01, help=_DENOISE_HELP),
        Input("convention", STRING, default="diffusers", choices=CONVENTIONS, help=CONVENTION_HELP),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, model: Any, positive: Any, negative: Any, latent_image: dict,
            seed: int, steps: int, cfg: float, sampler_name: str, scheduler: str,
            denoise: float, convention: str = "diffusers") -> tuple[dict]:
        from nodes.sampling._convention import check_names, comfy_sigmas
        from nodes.values import Guider, NoiseSource, SamplerChoice, Schedule

        check_names(convention, sampler_name, scheduler)
        guider = Guider(model, positive, negative, cfg)
        choice, noise = SamplerChoice(sampler_name), NoiseSource(int(seed))
        if convention == "comfyui":
            from nodes.sampling._comfy_sampling import sample as comfy_sample

            sigmas = comfy_sigmas(model, scheduler, steps, denoise, sampler_name)
            return (comfy_sample(ctx, guider, choice, sigmas, noise, latent_image),)
        from nodes.sampling._loop import sample

        return (sample(ctx, guider, choice, Schedule(scheduler, steps, denoise), noise, latent_image),)


class SamplerSelect(Node):
    type_id = "sampling.sampler_select"
    title = "Sampler Select"
    category = "sampling/custom"
    infotext = {"sampler_name": "sampler"}
    description = "Picks the sampling algorithm for Sample. " + _SAMPLER_HELP
    inputs = (
        Input("sampler_name", STRING, default="euler", choices=SAMPLER_CHOICES),
        Input("eta", FLOAT, default=1.0, min=0.0, max=10.0, step=0.01,
              help="How much fresh noise each step adds (the 'creativity' knob): euler_ancestral, and with "
                   "noise levels from the comfyui convention also dpm_2_ancestral and the dpmpp SDE samplers. "
                   "1 is diffusers' and ComfyUI's default; 0 makes euler_ancestral plain Euler."),
    )
    outputs = (Output("sampler", SAMPLER),)

    def run(self, ctx: RunContext, sampler_name: str, eta: float) -> tuple[Any]:
        from nodes.values import SamplerChoice

        return (SamplerChoice(sampler_name, float(eta)),)


class Scheduler(Node):
    type_id = "sampling.scheduler"
    title = "Scheduler"
    category = "sampling/custom"
    infotext = {"scheduler": "scheduler", "steps": "steps", "denoise": "denoise"}
    description = ("The noise levels Sample walks through, read from the model (ComfyUI's Basic "
                   "Scheduler). " + _SCHEDULER_HELP + " " + _DENOISE_HELP)
    inputs = (
        Input("model", MODEL, optional=True,
              help="The model whose noise levels to use; the diffusers convention can do without it "
                   "(Sample then reads them from its guider's model), the comfyui one cannot."),
        Input("scheduler", STRING, default="normal", choices=SCHEDULER_CHOICES),
        Input("steps", INT, default=20, min=1, max=1000),
        Input("denoise", FLOAT, default=1.0, min=0.0, max=1.0, step=0.01),
        Input("convention", STRING, default="diffusers", choices=CONVENTIONS, help=CONVENTION_HELP),
    )
    outputs = (Output("sigmas", SIGMAS),)

    def run(self, ctx: RunContext, scheduler: str, steps: int, denoise: float, model: Any = None,
            convention: str = "diffusers") -> tuple[Any]:
        from nodes.sampling._convention import check_names, comfy_sigmas, diffusers_sigmas
        from nodes.values import Schedule, Sigmas

        check_names(convention, None, scheduler)
        if convention == "comfyui":
            if model is None:
                raise NodeError("the comfyui convention reads the noise levels from the model; connect it",
                                "model")
            return (Sigmas(comfy_sigmas(model, scheduler, int(steps), float(denoise))),)
        schedule = Schedule(scheduler, int(steps), float(denoise))
        return (Sigmas(diffusers_sigmas(model, schedule) if model is not None else None, schedule),)


class CFGGuider(Node):
    type_id = "sampling.cfg_guider"
    title = "CFG Guider"
    category = "sampling/custom"
    infotext = {"cfg": "cfg", "positive": "positive", "negative": "negative"}
    description = (
        "Classifier-free guidance for Sample: the model, the prompts and how strongly to follow "
        "them. guidance_rescale (0-1) tames over-saturation at high cfg, as diffusers' "
        "guidance_rescale does (recommended ~0.7 for zero-terminal-SNR models)."
    )
    inputs = (
        Input("model", MODEL),
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING, optional=True),
        Input("cfg", FLOAT, default=7.0, min=0.0, max=100.0, step=0.1),
        Input("guidance_rescale", FLOAT, default=0.0, min=0.0, max=1.0, step=0.05),
    )
    outputs = (Output("guider", GUIDER),)

    def run(self, ctx: RunContext, model: Any, positive: Any, negative: Any, cfg: float,
            guidance_rescale: float) -> tuple[Any]:
        from nodes.values import Guider

        return (Guider(model, positive, negative, float(cfg), float(guidance_rescale)),)


class Sample(Node):
    type_id = "sampling.sample"
    title = "Sample"
    category = "sampling/custom"
    description = (
        "Custom sampling from parts: noise, guider, sampler and schedule. With Random Noise, "
        "CFG Guider, Sampler Select and Scheduler set like the all-in-one Sampler it gives the "
        "same pixels."
    )
    inputs = (
        Input("noise", NOISE),
        Input("guider", GUIDER),
        Input("sampler", SAMPLER),
        Input("sigmas", SIGMAS),
        Input("latent_image", LATENT),
    )
    outputs = (Output("latent", LATENT),
               Output("denoised_output", LATENT, help="The last step's prediction of the clean latent (ComfyUI's "
                                                     "denoised_output); with levels ending at 0 it is the latent, up "
                                                     "to rounding."))

    def run(self, ctx: RunContext, noise: Any, guider: Any, sampler: Any, sigmas: Any,
            latent_image: dict) -> tuple[dict, dict]:
        from nodes.sampling._convention import run_both

        return run_both(ctx, guider, sampler, sigmas, noise, latent_image)
