"""ComfyUI-convention schedules against reference tables for SD 1.5's alphas.

SD 1.5: 1000 timesteps, betas linear in sqrt from 0.00085 to 0.012 ("scaled_linear"). The normal
and karras 8-step tables are ComfyUI v0.3.64's own output (issue 16); the others were computed
independently in float64 numpy from the published formulas cited per table below.
"""

from __future__ import annotations

import math

import pytest
import torch

from nodes.sampling._noise_streams import BrownianNoise, StepNoise, start_noise
from nodes.sampling._sigma_schedules import advanced_range, ksampler_sigmas, schedule, with_denoise
from nodes.sampling._sigma_table import SigmaTable

SD15 = {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000}

REFERENCE_8_STEPS = {
    # ComfyUI v0.3.64 on SD 1.5 (issue 16).
    "normal": [14.6146, 6.678, 3.522, 2.061, 1.277, 0.791, 0.440, 0.0292, 0],
    "karras": [14.6146, 7.903, 4.028, 1.910, 0.829, 0.321, 0.107, 0.0292, 0],
    # exp(linspace(log sigma_max, log sigma_min, n)) (k-diffusion get_sigmas_exponential).
    "exponential": [14.6146, 6.013, 2.4739, 1.0179, 0.4188, 0.1723, 0.0709, 0.0292, 0],
    # timesteps linspace(999, 0, n + 1)[:-1], log-sigma interpolated (Stability sgm DiscreteSampling).
    "sgm_uniform": [14.6146, 7.302, 4.0861, 2.496, 1.6156, 1.0712, 0.6951, 0.3997, 0],
    # table[-(1 + int(i * T / n))].
    "simple": [14.6146, 7.2974, 4.0817, 2.4925, 1.6129, 1.069, 0.6932, 0.3977, 0],
    # table[1 :: T // n] reversed (DDIM's uniform skip, Song et al. 2021, sec. 4.2 / C.2).
    "ddim_uniform": [7.3718, 4.1167, 2.5109, 1.6237, 1.076, 0.6984, 0.4022, 0.0413, 0],
    # timesteps rint(BetaPPF(1 - i/n; 0.6, 0.6) * 999) = 999, 942, 823, 670, 500, 329, 176, 57
    # (Lee et al. 2024, "Beta Sampling is All You Need").
    "beta": [14.6146, 10.4835, 5.6866, 2.9636, 1.6183, 0.9198, 0.5154, 0.2433, 0],
    # tan(r * atan(sigma_min) + (1 - r) * atan(sigma_max)), r = i / (n - 1) (Sabour et al. 2024).
    "kl_optimal": [14.6146, 3.4935, 1.8781, 1.1879, 0.777, 0.4832, 0.2443, 0.0292, 0],
}


@pytest.fixture(scope="module")
def sd15():
    return SigmaTable.from_config(SD15)


@pytest.mark.parametrize("name", sorted(REFERENCE_8_STEPS))
def test_eight_step_schedules_match_the_reference_tables(sd15, name):
    got = schedule(sd15, name, 8)
    expected = REFERENCE_8_STEPS[name]
    assert got.dtype == torch.float32 and len(got) == len(expected)
    digits = 3 if name in ("normal", "karras") else 4
    assert [round(float(v), digits) for v in got] == [round(v, digits) for v in expected]


def test_normal_schedule_calls_the_model_with_comfyuis_integer_timesteps(sd15):
    timesteps = [int(sd15.timestep(s)) for s in schedule(sd15, "normal", 8)[:-1]]
    assert timesteps == [999, 856, 714, 571, 428, 285, 143, 0]


def test_linear_quadratic_is_mochis_schedule_scaled_by_sigma_max(sd15):
    # genmo/models linear_quadratic_schedule(4, 0.025): 1 - [0, 0.0125, 0.025 + ..., ...] then 0.
    got = schedule(sd15, "linear_quadratic", 4) / sd15.sigma_max
    linear = [0.0, 0.0125]
    diff = 2 - 0.025 * 4
    quad, lin = diff / (2 * 4), 0.025 / 2 - 2 * diff / 4
    expected = [1 - v for v in linear + [quad * i * i + lin * i + quad * 4 for i in (2, 3)] + [1.0]]
    assert torch.allclose(got, torch.tensor(expected), atol=1e-6)


def test_zero_terminal_snr_table_ends_at_comfyuis_finite_sigma():
    table = SigmaTable.from_config({**SD15, "rescale_betas_zero_snr": True, "prediction_type": "v_prediction"})
    # alphabar_T = 4.8973451890853435e-08 -> sigma_max = sqrt((1 - a) / a).
    assert table.sigma_max == pytest.approx(math.sqrt((1 - 4.8973451890853435e-08) / 4.8973451890853435e-08), rel=1e-5)
    assert table.sigma_min == pytest.approx(SigmaTable.from_config(SD15).sigma_min, rel=1e-4)
    assert table.prediction == "v_prediction"


def test_denoise_runs_the_tail_of_a_longer_schedule(sd15):
    full = schedule(sd15, "normal", 20)
    assert torch.equal(with_denoise(sd15, "normal", 10, 0.5), full[-11:])
    assert len(with_denoise(sd15, "normal", 10, 0.0)) == 0
    assert torch.equal(with_denoise(sd15, "karras", 7, 1.0), schedule(sd15, "karras", 7))


def test_dpm_2_and_uni_pc_drop_the_next_to_last_sigma(sd15):
    nine = schedule(sd15, "normal", 9)
    got = ksampler_sigmas(sd15, "normal", 8, "dpm_2")
    assert torch.equal(got, torch.cat([nine[:-2], nine[-1:]])) and len(got) == 9


def test_advanced_range_splits_and_forces_a_full_denoise(sd15):
    sigmas = schedule(sd15, "normal", 8)
    first = advanced_range(sigmas, 0, 3, leftover_noise=True)
    second = advanced_range(sigmas, 3, 10000, leftover_noise=False)
    assert torch.equal(torch.cat([first, second[1:]]), sigmas)
    forced = advanced_range(sigmas, 0, 3, leftover_noise=False)
    assert float(forced[-1]) == 0 and torch.equal(forced[:-1], sigmas[:3])
    assert len(advanced_range(sigmas, 8, 10000, leftover_noise=False)) == 0


def test_start_noise_is_a_cpu_generator_and_the_step_noise_repeats_it():
    latent = torch.zeros(2, 4, 8, 8)
    noise = start_noise(42, latent)
    torch.manual_seed(42)
    assert torch.equal(noise, torch.randn(latent.shape))
    stream = StepNoise(latent, 42)
    assert torch.equal(stream(1.0, 0.5), noise)  # ComfyUI v0.3.64: a fresh generator, same seed
    assert not torch.equal(stream(0.5, 0.1), noise)


def test_brownian_noise_depends_on_the_interval_not_the_call_order():
    x = torch.zeros(1, 4, 8, 8)
    a = BrownianNoise(x, torch.tensor(0.03125), torch.tensor(14.5), seed=3)
    b = BrownianNoise(x, torch.tensor(0.03125), torch.tensor(14.5), seed=3)
    first = a(torch.tensor(14.5), torch.tensor(7.0))
    b(torch.tensor(2.0), torch.tensor(1.0))
    assert torch.allclose(b(torch.tensor(14.5), torch.tensor(7.0)), first, atol=1e-6)
    assert 0.7 < float(first.std()) < 1.3  # unit variance after dividing by sqrt(|dt|)
