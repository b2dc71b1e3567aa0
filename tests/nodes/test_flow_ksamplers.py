"""Stochastic samplers on a rectified-flow model, on data whose exact denoiser is known.

For x0 ~ N(0, s^2) and x = (1 - sigma) x0 + sigma * noise the ideal denoiser is
D(x, sigma) = x (1 - sigma) s^2 / ((1 - sigma)^2 s^2 + sigma^2). A sampler that adds its noise the
flow way ends with the data's spread; the sigma-space (variance-exploding) re-injection does not.
"""

from __future__ import annotations

import pytest
import torch

from nodeflow.core.comfy_samplers import SAMPLERS as NOISE_KIND
from nodes.sampling._comfy_sampling import FLOW_FUNCTIONS, FUNCTIONS
from nodes.sampling._flow_table import FlowSigmaTable
from nodes.sampling._ksamplers_flow import flow_ancestral_step
from nodes.sampling._noise_streams import BrownianNoise, StepNoise
from nodes.sampling._sigma_schedules import schedule

S = 0.5
TABLE = FlowSigmaTable.build("linear", 3.0)
STOCHASTIC = ["euler_ancestral", "dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m_sde",
              "dpmpp_2m_sde_heun", "dpmpp_3m_sde", "er_sde"]


def denoiser(x, sigma):
    return x * (1 - sigma) * S ** 2 / ((1 - sigma) ** 2 * S ** 2 + sigma ** 2)


def run(function, name, sigmas, x, seed=0, **options):
    kind = NOISE_KIND[name]
    noise = StepNoise(x, seed) if kind == "step" else BrownianNoise(x, sigmas[sigmas > 0].min(), sigmas.max(), seed)
    return function(denoiser, x.clone(), sigmas, lambda i, d: None, noise, space=TABLE.space, **options)


@pytest.fixture(scope="module")
def start():
    return schedule(TABLE, "simple", 200), torch.randn((1, 4, 32, 32), generator=torch.Generator().manual_seed(7))


@pytest.mark.parametrize("name", STOCHASTIC)
def test_flow_stochastic_samplers_end_with_the_datas_spread(start, name):
    sigmas, x = start
    assert float(sigmas[0]) == 1.0  # the run starts at full noise: the SDE samplers' lambda is -inf there
    out = run(FLOW_FUNCTIONS[name], name, sigmas, x)
    assert float(out.std()) == pytest.approx(S, rel=0.08), name
    assert torch.equal(out, run(FLOW_FUNCTIONS[name], name, sigmas, x))  # the same seed, the same noise
    assert not torch.equal(out, run(FLOW_FUNCTIONS[name], name, sigmas, x, seed=1))


def test_sigma_space_ancestral_noise_is_wrong_for_a_flow_model(start):
    """Why the flow variants exist: sigma-space re-injection leaves too much noise in a flow latent."""
    sigmas, x = start
    sigma_space = run(FUNCTIONS["euler_ancestral"], "euler_ancestral", sigmas, x)
    assert float(sigma_space.std()) > S * 1.25
    assert FLOW_FUNCTIONS["euler_ancestral"] is not FUNCTIONS["euler_ancestral"]


def test_a_flow_ancestral_step_keeps_the_flow_mix_of_signal_and_noise():
    sigma, sigma_next = torch.tensor(0.8), torch.tensor(0.5)
    for eta in (0.0, 0.5, 1.0):
        down, scale, spread = flow_ancestral_step(sigma, sigma_next, eta)
        # After the step to `down` the latent is (1 - down) x0 + down * noise; rescaled and renoised it
        # must be (1 - sigma_next) x0 + sigma_next * noise in distribution.
        torch.testing.assert_close(scale * (1 - down), 1 - sigma_next)
        torch.testing.assert_close((scale * down) ** 2 + spread ** 2, sigma_next ** 2)
    assert float(flow_ancestral_step(sigma, sigma_next, 0.0)[2]) == 0.0
    assert float(flow_ancestral_step(sigma, sigma_next, 1.0)[0]) == pytest.approx(0.5 ** 2 / 0.8)


@pytest.mark.parametrize("name, deterministic", [("euler_ancestral", "euler"), ("dpm_2_ancestral", "dpm_2")])
def test_eta_zero_is_the_deterministic_sampler(start, name, deterministic):
    sigmas, x = start
    ancestral = run(FLOW_FUNCTIONS[name], name, sigmas, x, eta=0.0)
    plain = FLOW_FUNCTIONS[deterministic](denoiser, x.clone(), sigmas, lambda i, d: None, None)
    torch.testing.assert_close(ancestral, plain, atol=1e-5, rtol=1e-5)


def test_sde_samplers_start_just_below_full_noise(start):
    """lambda = log((1 - sigma) / sigma) is -inf at sigma 1: the first call is at the table's sigma
    one ten-thousandth of the schedule lower, and nothing is NaN."""
    sigmas, x = start
    seen = []
    out = FLOW_FUNCTIONS["dpmpp_2m_sde"](lambda x, s: seen.append(float(s)) or denoiser(x, s), x.clone(), sigmas,
                                         lambda i, d: None, BrownianNoise(x, sigmas[-2], sigmas[0], 0),
                                         space=TABLE.space)
    assert seen[0] == pytest.approx(3 * 0.9999 / (1 + 2 * 0.9999)) and seen[0] < 1.0
    assert bool(torch.isfinite(out).all())


def test_lcm_renoises_a_flow_latent_the_flow_way(start):
    sigmas, x = start
    seen = []
    FLOW_FUNCTIONS["lcm"](lambda x, s: seen.append(x) or denoiser(x, s), x.clone(), sigmas[:3], lambda i, d: None,
                          StepNoise(x, 0), space=TABLE.space)
    noise = StepNoise(x, 0)(0, 0)
    torch.testing.assert_close(seen[1], sigmas[1] * noise + (1 - sigmas[1]) * denoiser(x, sigmas[0]))


def test_a_flow_model_refuses_only_ddpm_and_the_cfg_pp_samplers():
    assert set(FUNCTIONS) - set(FLOW_FUNCTIONS) == {"ddpm"} | {n for n in FUNCTIONS if n.endswith("_cfg_pp")}
