"""Ancestral samplers for rectified-flow models (x = (1 - sigma) x0 + sigma noise), as ComfyUI runs them.

Sigma-space ancestral sampling (`nodes.sampling._ksamplers.ancestral_step`) steps down to
sigma_down and adds sigma_up of noise, which keeps x0 + sigma * noise's variance but not a flow
latent's mix of signal and noise. For a flow model a step instead:
1. goes deterministically to sigma_down = sigma_next * (1 + (sigma_next / sigma - 1) * eta), which is
   sigma_next for eta 0 and sigma_next^2 / sigma for eta 1;
2. rescales the signal from alpha_down = 1 - sigma_down to alpha_next = 1 - sigma_next and adds
   noise of standard deviation sqrt(sigma_next^2 - (sigma_down * alpha_next / alpha_down)^2),
   so the latent is again (1 - sigma_next) x0 + sigma_next noise in distribution.
The deterministic parts are the sigma-space samplers' (a first-order step from sigma to s is
x * s / sigma + x0 * (1 - s / sigma) in either space); DPM-Solver++(2S) takes its midpoint halfway in
lambda = log((1 - sigma) / sigma). A step to sigma 0 returns x0 (Euler ancestral, DPM++ 2S a).
"""

from __future__ import annotations

from typing import Any

from nodes._lazy import lazy
from nodes.sampling._ksamplers import Done, Model, Noise, _dpm_2_step, to_d

torch = lazy("torch")


def flow_ancestral_step(sigma: Any, sigma_next: Any, eta: float) -> tuple[Any, Any, Any]:
    """(sigma_down, signal rescale alpha_next / alpha_down, noise scale) of one flow ancestral step."""
    sigma_down = sigma_next * (1 + (sigma_next / sigma - 1) * eta)
    alpha_next, alpha_down = 1 - sigma_next, 1 - sigma_down
    scale = alpha_next / alpha_down
    # Written so that eta 0 gives exactly 0 (ComfyUI's order of operations can leave a hair of noise
    # there, or a NaN when the rounding goes below 0).
    spread = (sigma_next ** 2 - (sigma_down * scale) ** 2).clamp(min=0) ** 0.5
    return sigma_down, scale, spread


def _toward(x: Any, sigma: Any, target: Any, denoised: Any) -> Any:
    """The first-order step from `sigma` to `target` along the line to x0."""
    ratio = target / sigma
    return ratio * x + (1 - ratio) * denoised


def euler_ancestral(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                    eta: float = 1.0, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        step_done(i, denoised)
        if sigmas[i + 1] == 0:
            x = denoised
            continue
        sigma_down, scale, spread = flow_ancestral_step(sigmas[i], sigmas[i + 1], eta)
        x = _toward(x, sigmas[i], sigma_down, denoised)
        if eta > 0:
            x = scale * x + noise(sigmas[i], sigmas[i + 1]) * spread
    return x


def dpm_2_ancestral(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                    eta: float = 1.0, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        sigma_down, scale, spread = flow_ancestral_step(sigmas[i], sigmas[i + 1], eta)
        step_done(i, denoised)
        x = _dpm_2_step(model, x, sigmas[i], to_d(x, sigmas[i], denoised), sigma_down)
        if sigma_down != 0:
            x = scale * x + noise(sigmas[i], sigmas[i + 1]) * spread
    return x


def _lambda_midpoint(sigma: Any, target: Any) -> Any:
    """The sigma halfway from `sigma` to `target` in lambda = log((1 - sigma) / sigma)."""
    if sigma == 1.0:  # lambda is -inf at full noise: ComfyUI takes 0.9999
        return torch.as_tensor(0.9999, dtype=sigma.dtype, device=sigma.device)
    lam, lam_target = ((1 - sigma) / sigma).log(), ((1 - target) / target).log()
    return (lam + (lam_target - lam) / 2).exp().add(1).reciprocal()


def dpmpp_2s_ancestral(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                       eta: float = 1.0, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        sigma_down, scale, spread = flow_ancestral_step(sigmas[i], sigmas[i + 1], eta)
        step_done(i, denoised)
        if sigmas[i + 1] == 0:
            x = x + to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
            continue
        sigma_mid = _lambda_midpoint(sigmas[i], sigma_down)
        denoised_2 = model(_toward(x, sigmas[i], sigma_mid, denoised), sigma_mid)
        x = _toward(x, sigmas[i], sigma_down, denoised_2)
        if eta > 0:
            x = scale * x + noise(sigmas[i], sigmas[i + 1]) * spread
    return x
