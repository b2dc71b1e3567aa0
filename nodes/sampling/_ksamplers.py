"""Samplers in sigma space (Karras et al. 2022's x = signal + sigma * noise), written from the papers.

Each sampler walks a descending list of sigmas, calling `model(x, sigma)` for the denoised image
(x0) and `step_done(i, denoised)` after each step; stochastic ones draw from `noise(sigma,
sigma_next)`. The maths follows the cited papers as k-diffusion (MIT, Katherine Crowson) writes
them, with ComfyUI's choices where the two differ (noted), since these samplers exist to give
ComfyUI's pixels:
- euler, heun: Karras et al. 2022, Algorithm 2 (no churn); ddim: Euler in sigma space, which is
  DDIM with eta 0 (Song et al. 2021; Karras et al. 2022, sec. 3).
- dpm_2: DPM-Solver-2 (Lu et al. 2022) with the midpoint taken in log sigma.
- euler_ancestral, dpm_2_ancestral, dpmpp_2s_ancestral: step down to sigma_down, then add sigma_up
  of fresh noise (ancestral sampling, Ho et al. 2020, split as in k-diffusion's `get_ancestral_step`).
- lms: linear multistep of order 4 over the Karras ODE derivative, coefficients = integrals of the
  Lagrange basis polynomials; ComfyUI returns the denoised image on the last step.
- dpmpp_2m: DPM-Solver++(2M) (Lu et al. 2022b, Algorithm 2) in lambda = -log sigma.
- lcm: Latent Consistency Models (Luo et al. 2023): jump to x0, re-noise to the next sigma in the
  model's noise space (`nodes.sampling._noise_space`).
SDE and UniPC samplers live in `nodes.sampling._ksamplers_sde` and `nodes.sampling._unipc`; the
ancestral ones of flow models in `nodes.sampling._ksamplers_flow`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nodes._lazy import lazy
from nodes.sampling._noise_space import SIGMA_SPACE, SigmaSpace

torch = lazy("torch")

Model = Callable[[Any, Any], Any]
Noise = Callable[[Any, Any], Any]
Done = Callable[[int, Any], None]


def to_d(x: Any, sigma: Any, denoised: Any) -> Any:
    """The Karras ODE derivative dx/dsigma = (x - x0) / sigma."""
    return (x - denoised) / sigma


def ancestral_step(sigma: Any, sigma_next: Any, eta: float = 1.0) -> tuple[Any, Any]:
    """(sigma_down, sigma_up): where a deterministic step should land and how much noise to add."""
    if not eta:
        return sigma_next, sigma_next * 0
    sigma_up = torch.minimum(sigma_next, eta * (sigma_next ** 2 * (sigma ** 2 - sigma_next ** 2) / sigma ** 2) ** 0.5)
    sigma_down = (sigma_next ** 2 - sigma_up ** 2) ** 0.5
    return sigma_down, sigma_up


def euler(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        step_done(i, denoised)
        x = x + to_d(x, sigmas[i], denoised) * (sigmas[i + 1] - sigmas[i])
    return x


def euler_ancestral(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                    eta: float = 1.0, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        sigma_down, sigma_up = ancestral_step(sigmas[i], sigmas[i + 1], eta)
        step_done(i, denoised)
        if sigma_down == 0:
            x = denoised
        else:
            d = to_d(x, sigmas[i], denoised)
            x = x + d * (sigma_down - sigmas[i]) + noise(sigmas[i], sigmas[i + 1]) * sigma_up
    return x


def heun(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        d = to_d(x, sigmas[i], denoised)
        step_done(i, denoised)
        dt = sigmas[i + 1] - sigmas[i]
        if sigmas[i + 1] == 0:
            x = x + d * dt
        else:
            x_2 = x + d * dt
            d_2 = to_d(x_2, sigmas[i + 1], model(x_2, sigmas[i + 1]))
            x = x + (d + d_2) / 2 * dt
    return x


def _dpm_2_step(model: Model, x: Any, sigma: Any, d: Any, target: Any) -> Any:
    """One DPM-2 step from `sigma` to `target`: the slope at the log-midpoint, or Euler's step when
    `target` is 0 (the midpoint of log 0 does not exist)."""
    if target == 0:
        return x + d * (target - sigma)
    sigma_mid = sigma.log().lerp(target.log(), 0.5).exp()
    x_2 = x + d * (sigma_mid - sigma)
    return x + to_d(x_2, sigma_mid, model(x_2, sigma_mid)) * (target - sigma)


def dpm_2(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        d = to_d(x, sigmas[i], denoised)
        step_done(i, denoised)
        x = _dpm_2_step(model, x, sigmas[i], d, sigmas[i + 1])
    return x


def dpm_2_ancestral(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                    eta: float = 1.0, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        sigma_down, sigma_up = ancestral_step(sigmas[i], sigmas[i + 1], eta)
        step_done(i, denoised)
        x = _dpm_2_step(model, x, sigmas[i], to_d(x, sigmas[i], denoised), sigma_down)
        if sigma_down != 0:  # the last step draws no noise, so the noise stream stays ComfyUI's
            x = x + noise(sigmas[i], sigmas[i + 1]) * sigma_up
    return x


def dpmpp_2s_ancestral(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                       eta: float = 1.0, **_: Any) -> Any:
    """DPM-Solver++(2S) (Lu et al. 2022b, Algorithm 1, r = 1/2) down to sigma_down, then fresh noise."""
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        sigma_down, sigma_up = ancestral_step(sigmas[i], sigmas[i + 1], eta)
        step_done(i, denoised)
        if sigma_down == 0:
            x = x + to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
        else:
            t, t_next = -sigmas[i].log(), -sigma_down.log()
            h = t_next - t
            mid = t + h / 2
            x_2 = ((-mid).exp() / (-t).exp()) * x - (-h / 2).expm1() * denoised
            denoised_2 = model(x_2, (-mid).exp())
            x = ((-t_next).exp() / (-t).exp()) * x - (-h).expm1() * denoised_2
        if sigmas[i + 1] > 0:
            x = x + noise(sigmas[i], sigmas[i + 1]) * sigma_up
    return x


def lms_coefficient(order: int, t: Any, i: int, j: int) -> float:
    """Integral over [t_i, t_i+1] of the Lagrange basis polynomial of node i - j (nodes i .. i-order+1).

    The integrand is a polynomial, so numpy integrates it exactly (k-diffusion uses adaptive
    quadrature to the same value).
    """
    import numpy as np

    poly = np.poly1d([1.0])
    for k in range(order):
        if k != j:
            poly *= np.poly1d([1.0, -t[i - k]]) / (t[i - j] - t[i - k])
    antiderivative = poly.integ()
    return float(antiderivative(t[i + 1]) - antiderivative(t[i]))


def lms(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None, order: int = 4,
        **_: Any) -> Any:
    nodes = sigmas.detach().cpu().double().numpy()
    derivatives: list[Any] = []
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        derivatives = (derivatives + [to_d(x, sigmas[i], denoised)])[-order:]
        step_done(i, denoised)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            current = min(i + 1, order)
            coefficients = [lms_coefficient(current, nodes, i, j) for j in range(current)]
            x = x + sum(c * d for c, d in zip(coefficients, reversed(derivatives)))
    return x


def dpmpp_2m(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None, **_: Any) -> Any:
    old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        step_done(i, denoised)
        t, t_next = -sigmas[i].log(), -sigmas[i + 1].log()
        h = t_next - t
        ratio = sigmas[i + 1] / sigmas[i]
        if old_denoised is None or sigmas[i + 1] == 0:
            x = ratio * x - (-h).expm1() * denoised
        else:
            r = (t + sigmas[i - 1].log()) / h
            blended = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
            x = ratio * x - (-h).expm1() * blended
        old_denoised = denoised
    return x


def lcm(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
        space: SigmaSpace = SIGMA_SPACE, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        step_done(i, denoised)
        x = denoised
        if sigmas[i + 1] > 0:
            x = space.renoised(x, noise(sigmas[i], sigmas[i + 1]), sigmas[i + 1])
    return x


def ddpm(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None, **_: Any) -> Any:
    """DDPM ancestral sampling (Ho et al. 2020, Algorithm 2) in variance-preserving space per step."""
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = model(x, sigma)
        step_done(i, denoised)
        eps = (x - denoised) / sigma
        abar, abar_next = 1 / (sigma * sigma + 1), 1 / (sigma_next * sigma_next + 1)
        alpha = abar / abar_next
        x_vp = x / torch.sqrt(1.0 + sigma ** 2.0)
        mean = (1.0 / alpha).sqrt() * (x_vp - (1 - alpha) * eps / (1 - abar).sqrt())
        if sigma_next > 0:
            mean = mean + ((1 - alpha) * (1.0 - abar_next) / (1.0 - abar)).sqrt() * noise(sigma, sigma_next)
            mean = mean * torch.sqrt(1.0 + sigma_next ** 2.0)
        x = mean
    return x


def gradient_estimation(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                        ge_gamma: float = 2.0, cfg_pp: bool = False, **_: Any) -> Any:
    """Euler with the gradient estimate of Permenter & Yavuz 2024 ("Interpreting and improving
    diffusion models from an optimization perspective"): from the second step on, the step adds
    (ge_gamma - 1) (d - d_prev) dt. With `cfg_pp`, d is the unconditional direction and the Euler
    part lands on the guided x0, as the CFG++ samplers do (`_ksamplers_cfgpp`)."""
    old_d = None
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = model(x, sigma)
        d = to_d(x, sigma, model.uncond if cfg_pp else denoised)
        step_done(i, denoised)
        if sigma_next == 0:
            x = denoised
        else:
            x = denoised + d * sigma_next if cfg_pp else x + d * (sigma_next - sigma)
            if old_d is not None:
                x = x + (ge_gamma - 1) * (d - old_d) * (sigma_next - sigma)
        old_d = d
    return x
