"""Stochastic DPM-Solver++ samplers (Lu et al. 2022, "DPM-Solver++", sec. 5 and appendix; the SDE
variants as k-diffusion (MIT) writes them, with ComfyUI's last step: on reaching sigma 0 the
denoised image is returned as it is).

All work in the half log signal-to-noise ratio lambda = log(alpha / sigma) with h the step in lambda
and alpha = sigma * e^lambda, both from the model's noise space (`nodes.sampling._noise_space`:
-log(sigma) and 1 in sigma space, log((1 - sigma) / sigma) and 1 - sigma for a flow model, whose
first sigma of 1 becomes the space's `almost_full`); eta = 1 adds the full stochastic term. Their
noise comes from `nodes.sampling._noise_streams`' Brownian tree, so it depends on the sigma
interval, not on the step count.
"""

from __future__ import annotations

from typing import Any

from nodes._lazy import lazy
from nodes.sampling._ksamplers import Done, Model, Noise, ancestral_step
from nodes.sampling._noise_space import SIGMA_SPACE, SigmaSpace

torch = lazy("torch")


def dpmpp_sde(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
              eta: float = 1.0, r: float = 0.5, space: SigmaSpace = SIGMA_SPACE, **_: Any) -> Any:
    """DPM-Solver++ (stochastic, 2 model calls per step): a midpoint at lambda + r*h."""
    sigmas = space.for_log_snr(sigmas)
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        step_done(i, denoised)
        if sigmas[i + 1] == 0:
            x = denoised
            continue
        lam_s, lam_t = space.half_log_snr(sigmas[i]), space.half_log_snr(sigmas[i + 1])
        h = lam_t - lam_s
        lam_mid = lam_s + r * h
        sigma_mid = space.sigma_at(lam_mid)
        # Step 1: to the midpoint, ancestrally.
        down, up = ancestral_step((-lam_s).exp(), (-lam_mid).exp(), eta)
        h_ = -down.log() - lam_s
        x_2 = (sigma_mid * lam_mid.exp()) / (sigmas[i] * lam_s.exp()) * (-h_).exp() * x
        x_2 = x_2 - sigma_mid * lam_mid.exp() * (-h_).expm1() * denoised
        if eta > 0:
            x_2 = x_2 + sigma_mid * lam_mid.exp() * noise(sigmas[i], sigma_mid) * up
        denoised_2 = model(x_2, sigma_mid)
        # Step 2: the full step with the blended estimate.
        down, up = ancestral_step((-lam_s).exp(), (-lam_t).exp(), eta)
        h_ = -down.log() - lam_s
        fac = 1 / (2 * r)
        blended = (1 - fac) * denoised + fac * denoised_2
        alpha_t, alpha_s = sigmas[i + 1] * lam_t.exp(), sigmas[i] * lam_s.exp()
        x = (alpha_t / alpha_s) * (-h_).exp() * x - alpha_t * (-h_).expm1() * blended
        if eta > 0:
            x = x + alpha_t * noise(sigmas[i], sigmas[i + 1]) * up
    return x


def _sde_base(x: Any, sigma: Any, sigma_next: Any, denoised: Any, h: Any, eta: float,
              lam_next: Any) -> tuple[Any, Any]:
    """The first-order part of a DPM-Solver++ SDE step, and alpha_t = sigma_next * e^lambda_next."""
    alpha_t = sigma_next * lam_next.exp()
    h_eta = h * (eta + 1)
    x = sigma_next / sigma * (-h * eta).exp() * x + alpha_t * (-h_eta).expm1().neg() * denoised
    return x, alpha_t


def _sde_noise(x: Any, noise: Noise, sigma: Any, sigma_next: Any, h: Any, eta: float) -> Any:
    if eta > 0:
        x = x + noise(sigma, sigma_next) * sigma_next * (-2 * h * eta).expm1().neg().sqrt()
    return x


def dpmpp_2m_sde(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                 eta: float = 1.0, solver_type: str = "midpoint", space: SigmaSpace = SIGMA_SPACE,
                 **_: Any) -> Any:
    """DPM-Solver++(2M) SDE: second order from the previous step's estimate (midpoint form)."""
    sigmas = space.for_log_snr(sigmas)
    old_denoised, h, h_last = None, None, None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        step_done(i, denoised)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            lam_s, lam_t = space.half_log_snr(sigmas[i]), space.half_log_snr(sigmas[i + 1])
            h = lam_t - lam_s
            x, alpha_t = _sde_base(x, sigmas[i], sigmas[i + 1], denoised, h, eta, lam_t)
            if old_denoised is not None:
                r = h_last / h
                h_eta = h * (eta + 1)
                if solver_type == "heun":
                    factor = (-h_eta).expm1().neg() / (-h_eta) + 1
                else:
                    factor = 0.5 * (-h_eta).expm1().neg()
                x = x + alpha_t * factor * (1 / r) * (denoised - old_denoised)
            x = _sde_noise(x, noise, sigmas[i], sigmas[i + 1], h, eta)
        old_denoised, h_last = denoised, h
    return x


def dpmpp_3m_sde(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                 eta: float = 1.0, space: SigmaSpace = SIGMA_SPACE, **_: Any) -> Any:
    """DPM-Solver++(3M) SDE: third order from the two previous estimates."""
    sigmas = space.for_log_snr(sigmas)
    denoised_1 = denoised_2 = None
    h = h_1 = h_2 = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        step_done(i, denoised)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            lam_s, lam_t = space.half_log_snr(sigmas[i]), space.half_log_snr(sigmas[i + 1])
            h = lam_t - lam_s
            h_eta = h * (eta + 1)
            x, alpha_t = _sde_base(x, sigmas[i], sigmas[i + 1], denoised, h, eta, lam_t)
            phi_2 = h_eta.neg().expm1() / h_eta + 1
            if h_2 is not None:
                r0, r1 = h_1 / h, h_2 / h
                d1_0 = (denoised - denoised_1) / r0
                d1_1 = (denoised_1 - denoised_2) / r1
                d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1)
                d2 = (d1_0 - d1_1) / (r0 + r1)
                phi_3 = phi_2 / h_eta - 0.5
                x = x + (alpha_t * phi_2) * d1 - (alpha_t * phi_3) * d2
            elif h_1 is not None:
                x = x + (alpha_t * phi_2) * ((denoised - denoised_1) / (h_1 / h))
            x = _sde_noise(x, noise, sigmas[i], sigmas[i + 1], h, eta)
        denoised_1, denoised_2 = denoised, denoised_1
        h_1, h_2 = h, h_1
    return x
