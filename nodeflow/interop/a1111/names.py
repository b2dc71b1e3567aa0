"""A1111/Forge names of samplers, schedules and latent upscalers, and NodeFlow's for them.

NodeFlow runs an imported picture's settings with the `comfyui` sampling convention: ComfyUI's
samplers are k-diffusion's, as A1111's are, so a name maps to the same maths. A name missing here
has no equivalent and is reported.
"""

from __future__ import annotations

#: A1111 sampler name -> the comfyui convention's.
SAMPLERS = {
    "euler": "euler", "euler a": "euler_ancestral", "heun": "heun", "lms": "lms", "dpm2": "dpm_2",
    "dpm2 a": "dpm_2_ancestral", "dpm++ 2s a": "dpmpp_2s_ancestral", "dpm++ 2m": "dpmpp_2m",
    "dpm++ sde": "dpmpp_sde", "dpm++ 2m sde": "dpmpp_2m_sde", "dpm++ 2m sde heun": "dpmpp_2m_sde_heun",
    "dpm++ 3m sde": "dpmpp_3m_sde", "ddim": "ddim", "ddpm": "ddpm", "unipc": "uni_pc", "lcm": "lcm",
}
#: A1111 "Schedule type" -> the comfyui convention's scheduler.
SCHEDULES = {
    "automatic": "normal", "normal": "normal", "karras": "karras", "exponential": "exponential",
    "sgm uniform": "sgm_uniform", "simple": "simple", "ddim": "ddim_uniform", "beta": "beta",
    "kl optimal": "kl_optimal",
}
#: Old sampler names carried the schedule as a suffix ("DPM++ 2M Karras").
SCHEDULE_SUFFIXES = {" karras": "karras", " exponential": "exponential"}
#: "Hires upscaler" values that are latent resizes -> the Latent Upscale method.
LATENT_UPSCALERS = {
    "latent": "bilinear", "latent (antialiased)": "bilinear", "latent (bicubic)": "bicubic",
    "latent (bicubic antialiased)": "bicubic", "latent (nearest)": "nearest-exact",
    "latent (nearest-exact)": "nearest-exact",
}


def sampler_and_schedule(sampler: str, schedule: str | None) -> tuple[str | None, str | None]:
    """(comfyui sampler, scheduler) for A1111's names; None where there is no equivalent."""
    name = sampler.strip().lower()
    implied = None
    for suffix, scheduler in SCHEDULE_SUFFIXES.items():
        if name.endswith(suffix) and name[: -len(suffix)] in SAMPLERS:
            name, implied = name[: -len(suffix)], scheduler
    chosen = SCHEDULES.get(schedule.strip().lower()) if schedule else implied or "normal"
    return SAMPLERS.get(name), chosen
