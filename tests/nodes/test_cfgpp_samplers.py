"""The CFG++ samplers against the maths, on Gaussian data where the exact denoisers are known: a
conditional and an unconditional one with different means, mixed by classifier-free guidance."""

from __future__ import annotations

import math

import pytest
import torch

from nodeflow.core.comfy_samplers import SAMPLERS, nearest, pixels_expected
from nodes.sampling import _ksamplers as ks
from nodes.sampling import _ksamplers_exp as exp
from nodes.sampling._comfy_sampling import FUNCTIONS, WITH_ETA
from nodes.sampling._ksamplers_cfgpp import CFG_PP

S = 0.5  # data spread; the conditional data has mean 0.8, the unconditional 0.1


def gaussian(mu: float):
    return lambda x, sigma: mu + S ** 2 / (S ** 2 + sigma ** 2) * (x - mu)


class Guided:
    """uncond + cfg (cond - uncond), keeping the unconditional x0 as the comfyui denoiser does."""

    def __init__(self, cfg: float, mu_cond: float = 0.8, mu_uncond: float = 0.1):
        self.cfg, self.cond, self.uncond_of = cfg, gaussian(mu_cond), gaussian(mu_uncond)
        self.uncond = None
        self.calls = 0

    def __call__(self, x, sigma):
        self.calls += 1
        self.uncond = self.uncond_of(x, sigma)
        return self.uncond + (self.cond(x, sigma) - self.uncond) * self.cfg


SIGMAS = torch.tensor([14.6, 6.0, 2.0, 0.7, 0.2, 0.0], dtype=torch.float64)
START = torch.linspace(-2, 2, 9, dtype=torch.float64) * 14.6
BASE = {"euler_cfg_pp": ks.euler, "euler_ancestral_cfg_pp": ks.euler_ancestral, "dpmpp_2m_cfg_pp": ks.dpmpp_2m,
        "dpmpp_2s_ancestral_cfg_pp": ks.dpmpp_2s_ancestral, "res_multistep_cfg_pp": exp.res_multistep,
        "res_multistep_ancestral_cfg_pp": lambda *a, **k: exp.res_multistep(*a, eta=1.0, **k),
        "gradient_estimation_cfg_pp": ks.gradient_estimation}


def _noise():
    generator = torch.Generator().manual_seed(3)
    return lambda s, t: torch.randn(START.shape, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(CFG_PP))
def test_without_guidance_each_cfg_pp_sampler_is_its_base_sampler(name):
    same = Guided(cfg=1.0, mu_cond=0.1)  # cond == uncond: no guidance to treat differently
    ours = FUNCTIONS[name](same, START.clone(), SIGMAS, lambda i, d: None, _noise())
    base = BASE[name](gaussian(0.1), START.clone(), SIGMAS, lambda i, d: None, _noise())
    torch.testing.assert_close(ours, base, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(CFG_PP))
def test_with_guidance_each_cfg_pp_sampler_differs_from_its_base_and_ends_on_the_guided_x0(name):
    seen = []
    model = Guided(cfg=1.5)
    ours = FUNCTIONS[name](model, START.clone(), SIGMAS, lambda i, d: seen.append(d), _noise())
    torch.testing.assert_close(ours, seen[-1], rtol=0, atol=0)  # the step to sigma 0 returns x0
    base = BASE[name](Guided(cfg=1.5), START.clone(), SIGMAS, lambda i, d: None, _noise())
    assert (ours - base).abs().max() > 1e-3


def test_one_euler_cfg_pp_step_lands_on_the_guided_x0_and_renoises_along_the_unconditional_one():
    model, x = Guided(cfg=2.0), START.clone()
    sigma, sigma_next = SIGMAS[1], SIGMAS[2]
    out = FUNCTIONS["euler_cfg_pp"](model, x, torch.stack([sigma, sigma_next]), lambda i, d: None)
    guided, uncond = model(x, sigma), model.uncond_of(x, sigma)
    torch.testing.assert_close(out, guided + sigma_next * (x - uncond) / sigma)


def test_dpmpp_2m_cfg_pp_second_step_carries_the_previous_unconditional_x0():
    model, x = Guided(cfg=2.0), START.clone()
    sigmas = SIGMAS[:3]
    out = FUNCTIONS["dpmpp_2m_cfg_pp"](model, x, sigmas, lambda i, d: None)
    x1 = model(x, sigmas[0]) + sigmas[1] / sigmas[0] * (x - model.uncond_of(x, sigmas[0]))
    h, h_last = math.log(sigmas[1] / sigmas[2]), math.log(sigmas[0] / sigmas[1])
    x2 = (model(x1, sigmas[1]) + math.exp(-h) * (x1 - model.uncond_of(x1, sigmas[1]))
          - math.expm1(-h) * h / (2 * h_last) * (model(x1, sigmas[1]) - model.uncond_of(x, sigmas[0])))
    torch.testing.assert_close(out, x2)


def test_dpmpp_2s_ancestral_cfg_pp_calls_the_model_twice_a_step_but_once_on_the_last():
    model = Guided(cfg=1.2)
    FUNCTIONS["dpmpp_2s_ancestral_cfg_pp"](model, START.clone(), SIGMAS, lambda i, d: None, _noise())
    assert model.calls == 2 * (len(SIGMAS) - 2) + 1


def test_the_cfg_pp_names_run_themselves_and_promise_no_comfyui_pixels_yet():
    for name in CFG_PP:
        assert name in SAMPLERS and nearest(name, SAMPLERS) == name
        assert "not been compared" in pixels_expected(name, "normal")[1]
    assert {n for n in CFG_PP if SAMPLERS[n] == "step"} == {n for n in CFG_PP if n in WITH_ETA}
    assert SAMPLERS["gradient_estimation"] is None
    assert nearest("gradient_estimation_cfg_pp", SAMPLERS) == "gradient_estimation_cfg_pp"  # runs itself


def test_gradient_estimation_is_euler_at_gamma_1_and_follows_the_ode_closer_with_few_steps():
    from tests.nodes.test_exp_samplers import denoiser, error

    same = ks.gradient_estimation(denoiser, START.clone(), SIGMAS, lambda i, d: None, ge_gamma=1.0)
    torch.testing.assert_close(same, ks.euler(denoiser, START.clone(), SIGMAS, lambda i, d: None))
    assert error(ks.gradient_estimation, 5) < error(ks.euler, 5) / 5  # 0.10 of Euler's error here
    assert error(ks.gradient_estimation, 10) < error(ks.euler, 10) * 0.6
