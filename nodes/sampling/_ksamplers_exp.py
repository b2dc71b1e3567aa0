"""Exponential-integrator samplers in sigma space, written from the papers:

- res_multistep: the second-order multistep exponential integrator of "RES" (Zhang, Tao and Chen
  2023, "Improved order analysis and design of exponential integrator for diffusion models",
  arXiv:2308.02157), in t = -log(sigma) for the data prediction x0: with h = t_next - t and
  c = (t_prev - t) / h, x_next = e^-h x + h (b1 x0 + b2 x0_prev), b1 = phi1(-h) - phi2(-h) / c,
  b2 = phi2(-h) / c, phi1(z) = (e^z - 1) / z, phi2(z) = (phi1(z) - 1) / z. The first step (no
  previous x0) is the exponential Euler step, which in sigma space is Euler's; a step to sigma 0
  returns x0. The ancestral form steps to sigma_down and adds sigma_up of fresh noise; as in
  ComfyUI, c then measures from the previous step's sigma_down, t_old: c = (t_prev - t_old) / h.
  With `cfg_pp` (`_ksamplers_cfgpp`) the first step is the Euler CFG++ step, x is moved by the
  guidance x0 - x0_u before the multistep update, which uses the unconditional x0s.
- er_sde: the VP ER-SDE-Solver-3 of Cui et al. 2023 ("Elucidating the solution space of extended
  reverse-time SDE for diffusion models", arXiv:2309.06169) with their noise scale function
  phi(l) = l (e^(l^0.3) + 10), l = sigma / alpha = e^-lambda (lambda and alpha from the model's noise
  space, `nodes.sampling._noise_space`: l = sigma for epsilon and v models, sigma / (1 - sigma) for a
  flow model): x_t / a_t = r x_s / a_s + (1 - r) x0 + [dt + phi(l_t) I1] x0'
  + [dt^2 / 2 + phi(l_t) I2] x0'' + sqrt(l_t^2 - l_s^2 r^2) z, r = phi(l_t) / phi(l_s),
  dt = l_t - l_s, I1 = integral over [l_t, l_s] of 1 / phi, I2 of (l - l_s) / phi (each a sum over
  200 points from l_t), x0' and x0'' finite differences of earlier steps' x0 (orders 1, 2, 3 as
  history allows). Those terms are the Taylor expansion of x0(l) integrated by parts; see
  tests/nodes/test_exp_samplers.py.
"""

from __future__ import annotations

from typing import Any

from nodes._lazy import lazy
from nodes.sampling._ksamplers import Done, Model, Noise, ancestral_step
from nodes.sampling._noise_space import SIGMA_SPACE, SigmaSpace

torch = lazy("torch")

#: Points of the sums that stand for ER-SDE's integrals.
INTEGRATION_POINTS = 200


def _phi1(z: Any) -> Any:
    return torch.expm1(z) / z


def _phi2(z: Any) -> Any:
    return (_phi1(z) - 1) / z


def res_multistep(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                  eta: float = 0.0, cfg_pp: bool = False, **_: Any) -> Any:
    old_denoised = old_target = None
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = model(x, sigma)
        used = model.uncond if cfg_pp else denoised  # the x0 the update is built on
        step_done(i, denoised)
        target, sigma_up = ancestral_step(sigma, sigma_next, eta)
        if target == 0 or old_denoised is None:
            if cfg_pp:
                x = denoised + (x - used) / sigma * target
            else:
                x = x + (x - denoised) / sigma * (target - sigma)  # Euler (= exponential Euler for x0)
        else:
            t, t_next, t_prev, t_old = -sigma.log(), -target.log(), -sigmas[i - 1].log(), -old_target.log()
            h = t_next - t
            c = (t_prev - t_old) / h
            b1 = torch.nan_to_num(_phi1(-h) - _phi2(-h) / c, nan=0.0)
            b2 = torch.nan_to_num(_phi2(-h) / c, nan=0.0)
            if cfg_pp:
                x = x + (denoised - used)
            x = torch.exp(-h) * x + h * (b1 * used + b2 * old_denoised)
        if eta and sigma_next > 0:
            x = x + noise(sigma, sigma_next) * sigma_up
        old_denoised, old_target = used, target
    return x


def _noise_scale(level: Any) -> Any:
    """Cui et al.'s noise scale function phi(l) = l (e^(l^0.3) + 10)."""
    return level * (torch.exp(level ** 0.3) + 10.0)


def er_sde(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
           s_noise: float = 1.0, max_stage: int = 3, space: SigmaSpace = SIGMA_SPACE, **_: Any) -> Any:
    old_denoised = old_slope = None
    points = torch.arange(INTEGRATION_POINTS, dtype=torch.float32)
    sigmas = space.for_log_snr(sigmas)
    levels_all = space.half_log_snr(sigmas).neg().exp()  # l = sigma / alpha
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        step_done(i, denoised)
        if sigmas[i + 1] == 0:
            x = denoised
            continue
        l_s, l_t = levels_all[i], levels_all[i + 1]
        alpha_s, alpha_t = sigmas[i] / l_s, sigmas[i + 1] / l_t
        r = _noise_scale(l_t) / _noise_scale(l_s)
        x = alpha_t / alpha_s * r * x + alpha_t * (1 - r) * denoised
        stage = min(max_stage, i + 1)
        if stage >= 2:
            dt = l_t - l_s
            width = -dt / INTEGRATION_POINTS
            levels = l_t + points.to(l_t.device) * width
            scaled = _noise_scale(levels)
            slope = (denoised - old_denoised) / (l_s - levels_all[i - 1])
            x = x + alpha_t * (dt + torch.sum(1 / scaled) * width * _noise_scale(l_t)) * slope
            if stage >= 3:
                curve = (slope - old_slope) / ((l_s - levels_all[i - 2]) / 2)
                i2 = torch.sum((levels - l_s) / scaled) * width
                x = x + alpha_t * (dt ** 2 / 2 + i2 * _noise_scale(l_t)) * curve
            old_slope = slope
        if s_noise > 0:
            spread = torch.nan_to_num((l_t ** 2 - l_s ** 2 * r ** 2).sqrt(), nan=0.0)
            x = x + alpha_t * noise(sigmas[i], sigmas[i + 1]) * s_noise * spread
        old_denoised = denoised
    return x
