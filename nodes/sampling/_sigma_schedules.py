"""ComfyUI's step schedules: which sigmas of a model's table a run of n steps visits.

Every function returns a float32 CPU tensor of n + 1 descending sigmas ending at 0 (a few end at the
table's smallest sigma instead, as noted). Sources of the formulas:
- karras: Karras et al. 2022, eq. 5 (rho = 7); exponential: evenly spaced in log sigma
  (k-diffusion `get_sigmas_exponential`); both between the table's sigma_min and sigma_max.
- normal / sgm_uniform: timesteps evenly spaced from the largest to the smallest (sgm: n + 1 points,
  the last dropped, as Stability's sgm `DiscreteSampling`), each mapped to a sigma by log-sigma
  interpolation; simple: every T/n-th table entry from the top; ddim_uniform: every T//n-th entry
  from timestep 1 up (Song et al. 2021's uniform DDIM skip).
- beta: timesteps at the quantiles of a Beta(0.6, 0.6) distribution (Lee et al. 2024, "Beta
  Sampling is All You Need"), rounded, duplicates removed.
- linear_quadratic: Mochi 1's schedule (genmo/models, `linear_quadratic_schedule`): the first half
  linear down to 0.025 below 1, the rest quadratic, scaled by sigma_max.
- kl_optimal: Sabour et al. 2024 ("Align Your Steps"), sigmas = tan of evenly spaced arctan values.
"""

from __future__ import annotations

import math
from typing import Any

from nodeflow.core import NodeError
from nodeflow.core.comfy_samplers import SCHEDULERS
from nodes._lazy import lazy
from nodes.sampling._sigma_table import SigmaTable

torch = lazy("torch")
np = lazy("numpy")

SCHEDULER_NAMES = SCHEDULERS
#: Samplers ComfyUI's KSampler gives one extra step and then drops the next-to-last sigma.
DISCARD_PENULTIMATE = frozenset({"dpm_2", "dpm_2_ancestral", "uni_pc", "uni_pc_bh2"})


def _with_zero(values: Any) -> Any:
    values = torch.as_tensor(values, dtype=torch.float32)
    return torch.cat([values, values.new_zeros(1)])


def karras(steps: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> Any:
    ramp = torch.linspace(0, 1, steps)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return _with_zero((hi + ramp * (lo - hi)) ** rho)


def exponential(steps: int, sigma_min: float, sigma_max: float) -> Any:
    return _with_zero(torch.linspace(math.log(sigma_max), math.log(sigma_min), steps).exp())


def _uniform_timesteps(table: SigmaTable, steps: int, sgm: bool) -> Any:
    first = float(table.timestep(torch.tensor(table.sigma_max)))
    last = float(table.timestep(torch.tensor(table.sigma_min)))
    if sgm:
        timesteps = torch.linspace(first, last, steps + 1)[:-1]
        return _with_zero([float(table.sigma(t)) for t in timesteps])
    if math.isclose(float(table.sigma(torch.tensor(last))), 0.0, abs_tol=1e-5):
        # A table that reaches 0 itself ends there: one more point instead of an appended zero.
        return torch.tensor([float(table.sigma(t)) for t in torch.linspace(first, last, steps + 1)])
    return _with_zero([float(table.sigma(t)) for t in torch.linspace(first, last, steps)])


def simple(table: SigmaTable, steps: int) -> Any:
    stride = len(table) / steps
    return _with_zero([float(table.sigmas[-(1 + int(i * stride))]) for i in range(steps)])


def ddim_uniform(table: SigmaTable, steps: int) -> Any:
    """Every T//n-th sigma from timestep 1 up, reversed; the 0 is only added if the table lacks it."""
    reaches_zero = math.isclose(float(table.sigmas[1]), 0.0, abs_tol=1e-5)
    stride = max(len(table) // (steps + 1 if reaches_zero else steps), 1)
    values = [float(table.sigmas[i]) for i in range(1, len(table), stride)]
    if not reaches_zero:
        values = [0.0] + values
    return torch.tensor(values[::-1], dtype=torch.float32)


def beta(table: SigmaTable, steps: int, alpha: float = 0.6, beta_: float = 0.6) -> Any:
    from scipy.stats import beta as beta_dist

    last = len(table) - 1
    quantiles = 1 - np.linspace(0, 1, steps, endpoint=False)
    timesteps = np.rint(beta_dist.ppf(quantiles, alpha, beta_) * last)
    values, previous = [], None
    for t in timesteps:
        if t != previous:
            values.append(float(table.sigmas[int(t)]))
        previous = t
    return _with_zero(values)


def linear_quadratic(table: SigmaTable, steps: int, threshold: float = 0.025) -> Any:
    if steps == 1:
        fractions = [1.0, 0.0]
    else:
        linear_steps = steps // 2
        quadratic_steps = steps - linear_steps
        linear = [i * threshold / linear_steps for i in range(linear_steps)]
        diff = linear_steps - threshold * steps
        quad_coef = diff / (linear_steps * quadratic_steps ** 2)
        lin_coef = threshold / linear_steps - 2 * diff / quadratic_steps ** 2
        const = quad_coef * linear_steps ** 2
        quadratic = [quad_coef * i ** 2 + lin_coef * i + const for i in range(linear_steps, steps)]
        fractions = [1.0 - x for x in linear + quadratic + [1.0]]
    return torch.tensor(fractions, dtype=torch.float32) * table.sigmas[-1]


def kl_optimal(steps: int, sigma_min: float, sigma_max: float) -> Any:
    ramp = torch.arange(steps, dtype=torch.float32) / max(steps - 1, 1)
    values = (ramp * math.atan(sigma_min) + (1 - ramp) * math.atan(sigma_max)).tan()
    return _with_zero(values)


def schedule(table: SigmaTable, name: str, steps: int) -> Any:
    """The n + 1 sigmas of schedule `name` for a model's table (ComfyUI's `calculate_sigmas`)."""
    if steps < 1:
        raise NodeError("steps must be at least 1", "steps")
    lo, hi = table.sigma_min, table.sigma_max
    if name == "normal":
        return _uniform_timesteps(table, steps, sgm=False)
    if name == "sgm_uniform":
        return _uniform_timesteps(table, steps, sgm=True)
    if name == "karras":
        return karras(steps, lo, hi)
    if name == "exponential":
        return exponential(steps, lo, hi)
    if name == "simple":
        return simple(table, steps)
    if name == "ddim_uniform":
        return ddim_uniform(table, steps)
    if name == "beta":
        return beta(table, steps)
    if name == "linear_quadratic":
        return linear_quadratic(table, steps)
    if name == "kl_optimal":
        return kl_optimal(steps, lo, hi)
    raise NodeError(f"unknown scheduler '{name}' (known: {', '.join(SCHEDULER_NAMES)})", "scheduler")


def ksampler_sigmas(table: SigmaTable, scheduler: str, steps: int, sampler: str) -> Any:
    """KSampler's schedule: dpm_2 / uni_pc samplers get one more step with the next-to-last dropped."""
    if sampler in DISCARD_PENULTIMATE:
        sigmas = schedule(table, scheduler, steps + 1)
        return torch.cat([sigmas[:-2], sigmas[-1:]])
    return schedule(table, scheduler, steps)


def with_denoise(table: SigmaTable, scheduler: str, steps: int, denoise: float, sampler: str = "") -> Any:
    """ComfyUI's `denoise`: the last `steps` sigmas of an int(steps / denoise)-step schedule.

    denoise 1 is the full schedule; 0 leaves no step (an empty tensor: the latent passes unchanged).
    """
    if denoise > 0.9999:
        return ksampler_sigmas(table, scheduler, steps, sampler)
    if denoise <= 0.0:
        return torch.zeros(0)
    total = int(steps / denoise)
    return ksampler_sigmas(table, scheduler, total, sampler)[-(steps + 1):]


def advanced_range(sigmas: Any, start_step: int, end_step: int, leftover_noise: bool) -> Any:
    """KSampler Advanced's slice: steps [start, end); without leftover noise the last sigma becomes 0."""
    if end_step < len(sigmas) - 1:
        sigmas = sigmas[:end_step + 1].clone()
        if not leftover_noise:
            sigmas[-1] = 0.0
    if start_step < len(sigmas) - 1:
        return sigmas[start_step:]
    return sigmas[:0]
