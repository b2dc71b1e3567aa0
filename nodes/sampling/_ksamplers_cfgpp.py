"""CFG++ samplers (Chung et al. 2024, "CFG++: Manifold-constrained classifier free guidance for
diffusion models", arXiv:2406.08070), with the behaviour of ComfyUI's `*_cfg_pp` samplers.

Classifier-free guidance mixes x0 = x0_u + cfg (x0_c - x0_u) from the unconditional and the
conditional denoised images. A plain sampler then steps along the *guided* direction
(x - x0) / sigma; CFG++ lands on the guided x0 but re-noises along the *unconditional* direction
(x - x0_u) / sigma, which keeps the sample near the data manifold (and is why these samplers want
a small cfg, about 0.5-2: ComfyUI passes cfg through unchanged, and so does NodeFlow).

So each step needs both denoised images. `model` is the comfyui convention's guided denoiser built
with `keep_uncond` (`nodes.sampling._comfy_denoiser.Denoiser`): after each call its `uncond`
holds that call's x0_u, computed even at cfg 1.
- euler_cfg_pp, euler_ancestral_cfg_pp: x_next = x0 + sigma_down (x - x0_u) / sigma, plus sigma_up
  of fresh noise (the ancestral split of `_ksamplers.ancestral_step`; eta 0 is Euler), x0 at sigma 0.
- dpmpp_2m_cfg_pp: DPM-Solver++(2M) in t = -log sigma with h = t_next - t, r = h_prev / h:
  x_next = x0 + e^-h (x - x0_u) - expm1(-h) / (2 r) (x0 - x0_u_prev); the last term only from the
  second step on and not on a step to sigma 0 (which returns x0).
- dpmpp_2s_ancestral_cfg_pp: the DPM-Solver++(2S) step to sigma_down on unconditional x0s (the
  midpoint's x0_u for the full step), fresh noise, then the first call's guidance x0 - x0_u added.
- res_multistep_cfg_pp and its ancestral form: `_ksamplers_exp.res_multistep(cfg_pp=True)`;
  gradient_estimation_cfg_pp: `_ksamplers.gradient_estimation(cfg_pp=True)`.
For models whose x is signal + sigma * noise; a flow model's alpha(sigma) is not modelled here
(the comfyui convention refuses these samplers for flow models).
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

from nodes._lazy import lazy
from nodes.sampling._ksamplers import Done, Noise, ancestral_step, gradient_estimation
from nodes.sampling._ksamplers_exp import res_multistep

torch = lazy("torch")


class Model(Protocol):
    """The guided denoiser (x, sigma) -> x0, keeping the call's unconditional x0 in `uncond`."""

    uncond: Any

    def __call__(self, x: Any, sigma: Any) -> Any: ...


def euler_ancestral_cfg_pp(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                           eta: float = 1.0, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = model(x, sigma)
        step_done(i, denoised)
        if sigma_next == 0:
            x = denoised
            continue
        sigma_down, sigma_up = ancestral_step(sigma, sigma_next, eta)
        x = denoised + sigma_down * (x - model.uncond) / sigma
        if eta > 0:
            x = x + noise(sigma, sigma_next) * sigma_up
    return x


def euler_cfg_pp(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None, **_: Any) -> Any:
    return euler_ancestral_cfg_pp(model, x, sigmas, step_done, None, eta=0.0)


def dpmpp_2m_cfg_pp(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                    **_: Any) -> Any:
    old_uncond = None
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = model(x, sigma)
        uncond = model.uncond
        step_done(i, denoised)
        if sigma_next == 0:
            x = denoised
            continue
        h = sigma.log() - sigma_next.log()
        x = denoised + torch.exp(-h) * (x - uncond)
        if old_uncond is not None:
            r = (sigmas[i - 1].log() - sigma.log()) / h
            x = x - torch.expm1(-h) * (1 / (2 * r)) * (denoised - old_uncond)
        old_uncond = uncond
    return x


def dpmpp_2s_ancestral_cfg_pp(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
                              eta: float = 1.0, **_: Any) -> Any:
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = model(x, sigma)
        uncond = model.uncond
        guidance = denoised - uncond
        sigma_down, sigma_up = ancestral_step(sigma, sigma_next, eta)
        step_done(i, denoised)
        if sigma_down == 0:
            x = uncond
        else:
            t, t_next = -sigma.log(), -sigma_down.log()
            h = t_next - t
            mid = t + h / 2
            x_2 = ((-mid).exp() / (-t).exp()) * x - (-h / 2).expm1() * uncond
            model(x_2, (-mid).exp())
            x = ((-t_next).exp() / (-t).exp()) * x - (-h).expm1() * model.uncond
        if sigma_next > 0:
            x = x + noise(sigma, sigma_next) * sigma_up
        x = x + guidance
    return x


#: ComfyUI's CFG++ sampler names -> their functions (the comfyui convention builds their denoiser
#: with `keep_uncond`).
CFG_PP = {
    "euler_cfg_pp": euler_cfg_pp,
    "euler_ancestral_cfg_pp": euler_ancestral_cfg_pp,
    "dpmpp_2m_cfg_pp": dpmpp_2m_cfg_pp,
    "dpmpp_2s_ancestral_cfg_pp": dpmpp_2s_ancestral_cfg_pp,
    "res_multistep_cfg_pp": functools.partial(res_multistep, cfg_pp=True),
    "res_multistep_ancestral_cfg_pp": functools.partial(res_multistep, eta=1.0, cfg_pp=True),
    "gradient_estimation_cfg_pp": functools.partial(gradient_estimation, cfg_pp=True),
}
