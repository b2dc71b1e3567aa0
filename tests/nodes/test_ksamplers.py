"""The samplers' maths on a data distribution whose exact denoiser is known.

For data x0 ~ N(0, s^2) the ideal denoiser is D(x, sigma) = x * s^2 / (s^2 + sigma^2), and the
probability-flow ODE (Karras et al. 2022, eq. 1) carries x(sigma_max) to x(0) = x(sigma_max) * s /
sqrt(s^2 + sigma_max^2). ODE samplers must land close to that, higher-order ones closer than Euler;
stochastic ones must end with the data's variance.
"""

from __future__ import annotations

import pytest
import torch

from nodeflow.core.comfy_samplers import SAMPLERS as NOISE_KIND
from nodes.sampling._comfy_sampling import FUNCTIONS
from nodes.sampling._ksamplers import lms_coefficient
from nodes.sampling._noise_streams import BrownianNoise, StepNoise
from nodes.sampling._sigma_schedules import karras

S = 0.5


def denoiser(x, sigma):
    return x * S ** 2 / (S ** 2 + sigma ** 2)


def run(name, sigmas, x, seed=0):
    function, kind = FUNCTIONS[name], NOISE_KIND[name]
    noise = None
    if kind == "step":
        noise = StepNoise(x, seed)
    elif kind == "brownian":
        noise = BrownianNoise(x, sigmas[sigmas > 0].min(), sigmas.max(), seed)
    calls = []
    out = function(denoiser, x.clone(), sigmas, lambda i, d: calls.append(i), noise)
    return out, calls


@pytest.fixture(scope="module")
def start():
    sigmas = karras(12, 0.0292, 14.6146)
    x = torch.randn((1, 4, 32, 32), generator=torch.Generator().manual_seed(100)) * (S ** 2 + 14.6146 ** 2) ** 0.5
    exact = x * S / (S ** 2 + 14.6146 ** 2) ** 0.5
    return sigmas, x, exact


def error(name, start):
    sigmas, x, exact = start
    out, calls = run(name, sigmas, x)
    assert calls == list(range(12)), name  # one progress report per step
    return float((out - exact).abs().max() / exact.abs().max())


@pytest.mark.parametrize("name", ["heun", "dpm_2", "lms", "dpmpp_2m", "uni_pc", "uni_pc_bh2"])
def test_ode_samplers_follow_the_probability_flow(start, name):
    assert error(name, start) < 0.08


def test_euler_is_first_order(start):
    assert 0.05 < error("euler", start) == error("ddim", start) < 0.2


@pytest.mark.parametrize("name", ["heun", "dpm_2", "lms", "dpmpp_2m", "uni_pc"])
def test_higher_order_samplers_beat_euler(start, name):
    assert error(name, start) < error("euler", start) / 3


@pytest.mark.parametrize("name", ["euler_ancestral", "dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_sde",
                                  "dpmpp_2m_sde", "dpmpp_3m_sde", "ddpm"])
def test_stochastic_samplers_end_with_the_datas_spread(start, name):
    _, x, _ = start
    sigmas = karras(50, 0.0292, 14.6146)
    out, _ = run(name, sigmas, x)
    assert float(out.std()) == pytest.approx(S, rel=0.08)
    again, _ = run(name, sigmas, x)
    assert torch.equal(out, again)  # the same seed gives the same noise
    other, _ = run(name, sigmas, x, seed=1)
    assert not torch.equal(out, other)


def test_lms_coefficients_integrate_the_lagrange_polynomials():
    t = [10.0, 6.0, 3.0, 1.0]
    assert lms_coefficient(1, t, 0, 0) == pytest.approx(-4.0)  # order 1 is Euler: dt
    # Order 2 at i = 1 (nodes t0, t1): integral over [6, 3] of (tau - 10)/(6 - 10) and (tau - 6)/(10 - 6).
    assert lms_coefficient(2, t, 1, 0) == pytest.approx(((3 - 10) ** 2 - (6 - 10) ** 2) / 2 / (6 - 10))
    assert lms_coefficient(2, t, 1, 1) == pytest.approx((3 - 6) ** 2 / 2 / (10 - 6))


def test_lcm_returns_the_last_denoised_image_and_renoises_in_between(start):
    sigmas, x, _ = start
    seen = []
    out = FUNCTIONS["lcm"](lambda x, s: seen.append(x) or denoiser(x, s), x.clone(), sigmas,
                             lambda i, d: None, StepNoise(x, 0))
    assert torch.equal(out, denoiser(seen[-1], sigmas[-2]))
    noise = StepNoise(x, 0)
    assert torch.allclose(seen[1], denoiser(x, sigmas[0]) + noise(0, 0) * sigmas[1])


def test_every_comfyui_sampler_name_has_a_function():
    assert set(FUNCTIONS) == set(NOISE_KIND)
