"""A1111/Forge names of samplers, schedules and latent upscalers, and NodeFlow's for them.

NodeFlow runs an imported picture's settings with the `comfyui` sampling convention: ComfyUI's
samplers are k-diffusion's, as A1111's are, so a name maps to the same maths. A name missing here
has no equivalent and is reported. The names themselves are `core.infotext`'s, which writes them.
"""

from __future__ import annotations

from nodeflow.core.infotext import SAMPLER_NAMES, SCHEDULE_NAMES

#: A1111 sampler name (lowercase) -> the comfyui convention's: `core.infotext`'s table read backwards.
SAMPLERS = {a1111.lower(): name for name, a1111 in SAMPLER_NAMES.items()}
#: A1111 "Schedule type" (lowercase) -> the comfyui convention's scheduler; "Automatic" is the model's default.
SCHEDULES = {a1111.lower(): name for name, a1111 in SCHEDULE_NAMES.items()} | {"automatic": "normal"}
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
    name = sampler.strip().lower().removesuffix(" gpu")  # Forge's GPU-noise variants: same sampler
    implied = None
    for suffix, scheduler in SCHEDULE_SUFFIXES.items():
        if name.endswith(suffix) and name[: -len(suffix)] in SAMPLERS:
            name, implied = name[: -len(suffix)], scheduler
    chosen = SCHEDULES.get(schedule.strip().lower()) if schedule else implied or "normal"
    return SAMPLERS.get(name), chosen
