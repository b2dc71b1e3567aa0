"""res_multistep and er_sde against the maths: on Gaussian data the exact denoiser is known, so the
probability-flow ODE's solution and the distribution an SDE sampler must reach are known too."""

from __future__ import annotations

import math

import pytest
import torch

from nodeflow.core.comfy_samplers import SAMPLERS, nearest, pixels_expected
from nodes.sampling import _ksamplers as ks
from nodes.sampling import _ksamplers_exp as exp
from nodes.sampling._comfy_sampling import FUNCTIONS

MU, S = 0.3, 0.5  # the data: N(MU, S^2) per element


def denoiser(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """E[x0 | x] for Gaussian data seen through x = x0 + sigma * noise."""
    return MU + S ** 2 / (S ** 2 + sigma ** 2) * (x - MU)


def karras(steps: int, high: float = 14.6, low: float = 0.03, rho: float = 7.0) -> torch.Tensor:
    ramp = torch.linspace(0, 1, steps, dtype=torch.float64)
    sigmas = (high ** (1 / rho) + ramp * (low ** (1 / rho) - high ** (1 / rho))) ** rho
    return torch.cat([sigmas, sigmas.new_zeros(1)])


def ode_end(x: torch.Tensor, sigma_from: float, sigma_to: float) -> torch.Tensor:
    """The probability-flow ODE's exact solution for Gaussian data: the standardised offset is kept."""
    return MU + (x - MU) * math.sqrt(S ** 2 + sigma_to ** 2) / math.sqrt(S ** 2 + sigma_from ** 2)


def error(sampler, steps: int) -> float:
    sigmas = karras(steps)
    x = MU + torch.linspace(-2, 2, 11, dtype=torch.float64) * math.sqrt(S ** 2 + sigmas[0] ** 2)
    exact = ode_end(x, float(sigmas[0]), float(sigmas[-2]))  # the last step returns x0, compare before it
    out = sampler(denoiser, x, sigmas[:-1], lambda i, d: None)
    return float((out - exact).abs().max())


def test_res_multistep_is_second_order_and_beats_euler():
    errors = [error(exp.res_multistep, n) for n in (10, 20, 40)]
    assert errors[0] / errors[1] > 3.0 and errors[1] / errors[2] > 3.0  # about 4x per halving: order 2
    assert error(exp.res_multistep, 20) < error(ks.euler, 20) / 3


def test_res_multistep_on_a_constant_prediction_is_exact_and_its_last_step_returns_x0():
    x0 = torch.full((4,), 0.7, dtype=torch.float64)
    sigmas = karras(8)
    out = exp.res_multistep(lambda x, s: x0, torch.full((4,), 9.0, dtype=torch.float64), sigmas, lambda i, d: None)
    assert torch.allclose(out, x0)


def _samples(sampler, steps: int, **options) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    sigmas = karras(steps)
    x = MU + torch.randn(20000, generator=generator, dtype=torch.float64) * math.sqrt(S ** 2 + sigmas[0] ** 2)
    noise = lambda s, t: torch.randn(x.shape, generator=generator, dtype=torch.float64)  # noqa: E731
    return sampler(denoiser, x, sigmas, lambda i, d: None, noise, **options)


@pytest.mark.parametrize(("sampler", "steps", "options"), [
    (exp.er_sde, 30, {}),
    (exp.res_multistep, 300, {"eta": 1.0}),  # ancestral: first order in distribution, like euler_ancestral
])
def test_stochastic_samplers_reach_the_data_distribution(sampler, steps, options):
    out = _samples(sampler, steps, **options)
    assert abs(out.mean().item() - MU) < 0.02 and abs(out.std().item() - S) < 0.02


def test_er_sde_higher_stages_reach_the_distribution_in_fewer_steps():
    first, third = (abs(_samples(exp.er_sde, 30, max_stage=stage).std().item() - S) for stage in (1, 3))
    assert third < first / 5


def test_the_samplers_are_comfyui_names_that_no_longer_run_a_nearest():
    for name in ("res_multistep", "res_multistep_ancestral", "er_sde"):
        assert name in SAMPLERS and name in FUNCTIONS and nearest(name, SAMPLERS) == name
        assert "not been compared" in pixels_expected(name, "karras")[1]  # no promise until shown
    assert SAMPLERS["er_sde"] == "step" and SAMPLERS["res_multistep"] is None
    assert nearest("res_multistep_cfg_pp", SAMPLERS) == "res_multistep_cfg_pp"  # runs itself (test_cfgpp_samplers)
