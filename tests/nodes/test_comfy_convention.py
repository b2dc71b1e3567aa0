"""The ComfyUI convention end to end on tiny random models, against loops written out here.

The reference loops below restate ComfyUI's behaviour step by step (issue 16): start noise from a CPU
generator, start scaling sqrt(1 + sigma_max^2), the model called with x / sqrt(sigma^2 + 1) at the
nearest integer timestep, classifier-free guidance on the denoised images, Euler steps in sigma,
per-step ancestral noise from a fresh generator seeded with the same seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from graphs import pixels, run, txt2img

from nodeflow.core.comfy_samplers import pixels_expected
from nodeflow.engine import Executor
from nodes.sampling._sigma_table import SigmaTable


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def comfy_txt2img(checkpoint, executor, tmp_path, *, sampler="euler", scheduler="normal", steps=4, seed=5,
                  denoise=1.0):
    graph, ids = txt2img(checkpoint, seed=seed, steps=steps, sampler=sampler, scheduler=scheduler, save=False)
    graph.set_param(ids["sampler"], "convention", "comfyui")
    graph.set_param(ids["sampler"], "denoise", denoise)
    return run(executor, graph, tmp_path), ids


def reference(result, ids, sigmas, table, *, seed=5, cfg=7.0, ancestral=False, cfg_pp=False):
    """ComfyUI's euler / euler_ancestral / euler_cfg_pp txt2img, written out."""
    model = result.values[ids["ckpt"]]["model"]
    pos = result.values[ids["pos"]]["conditioning"].entries[0].embeds
    neg = result.values[ids["neg"]]["conditioning"].entries[0].embeds
    log_table = torch.log(table)
    shape = (1, 4, 16, 16)
    noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    step_noise = torch.Generator().manual_seed(seed)
    x = noise * math.sqrt(1 + float(sigmas[0]) ** 2)
    with torch.no_grad():
        for s, s_next in zip(sigmas[:-1].tolist(), sigmas[1:].tolist()):
            t = torch.tensor([float((math.log(s) - log_table).abs().argmin())] * 2)
            out = model.unet(torch.cat([x, x]) / math.sqrt(s * s + 1), t, encoder_hidden_states=torch.cat([neg, pos]),
                             return_dict=False)[0]
            if model.scheduler_config.get("prediction_type") == "v_prediction":
                den = torch.cat([x, x]) / (s * s + 1) - out * s / math.sqrt(s * s + 1)
            else:
                den = torch.cat([x, x]) - out * s
            uncond, cond = den.chunk(2)
            den = uncond + (cond - uncond) * cfg
            if cfg_pp:  # land on the guided x0, re-noise along the unconditional direction
                x = den + (x - uncond) / s * s_next
                continue
            if not ancestral:
                x = x + (x - den) / s * (s_next - s)
                continue
            up = min(s_next, math.sqrt(s_next ** 2 * (s ** 2 - s_next ** 2) / s ** 2))
            down = math.sqrt(s_next ** 2 - up ** 2)
            x = den if down == 0 else x + (x - den) / s * (down - s) + torch.randn(shape, generator=step_noise) * up
    return x


def sd15_sigmas(steps):
    """SD 1.5's table in float64 and ComfyUI's normal schedule over it (timesteps evenly from 999 to 0)."""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    alphabar = torch.cumprod(1 - betas, 0)
    table = ((1 - alphabar) / alphabar).sqrt()
    log = table.log()
    values = []
    for t in torch.linspace(999, 0, steps, dtype=torch.float64).tolist():
        lo, hi = math.floor(t), math.ceil(t)
        values.append(math.exp((1 - (t - lo)) * log[lo] + (t - lo) * log[hi]))
    return table.float(), torch.tensor(values + [0.0])


def test_euler_normal_is_comfyuis_loop(tiny_sd, executor, tmp_path):
    result, ids = comfy_txt2img(tiny_sd, executor, tmp_path)
    table, sigmas = sd15_sigmas(4)
    ours = result.values[ids["sampler"]]["latent"]["samples"]
    torch.testing.assert_close(ours, reference(result, ids, sigmas, table), atol=2e-4, rtol=1e-4)


def test_euler_ancestral_repeats_the_start_noise_as_its_first_step_noise(tiny_sd, executor, tmp_path):
    result, ids = comfy_txt2img(tiny_sd, executor, tmp_path, sampler="euler_ancestral")
    table, sigmas = sd15_sigmas(4)
    ours = result.values[ids["sampler"]]["latent"]["samples"]
    torch.testing.assert_close(ours, reference(result, ids, sigmas, table, ancestral=True), atol=2e-4, rtol=1e-4)


def test_euler_cfg_pp_renoises_along_the_unconditional_prediction_as_comfyui_does(tiny_sd, executor, tmp_path):
    result, ids = comfy_txt2img(tiny_sd, executor, tmp_path, sampler="euler_cfg_pp")
    table, sigmas = sd15_sigmas(4)
    ours = result.values[ids["sampler"]]["latent"]["samples"]
    torch.testing.assert_close(ours, reference(result, ids, sigmas, table, cfg_pp=True), atol=2e-4, rtol=1e-4)
    plain, _ = comfy_txt2img(tiny_sd, executor, tmp_path, sampler="euler")
    assert (ours - plain.values[ids["sampler"]]["latent"]["samples"]).abs().max() > 1e-2  # not its base sampler


def test_v_prediction_zero_snr_model_starts_at_comfyuis_finite_sigma_max(tiny_vpred, executor, tmp_path):
    result, ids = comfy_txt2img(tiny_vpred, executor, tmp_path, scheduler="karras", steps=3)
    table = SigmaTable.from_config(result.values[ids["ckpt"]]["model"].scheduler_config)
    assert table.sigma_max == pytest.approx(4518.8, rel=1e-3)
    sigmas = torch.tensor([table.sigma_max ** (1 / 7) + r * (table.sigma_min ** (1 / 7) - table.sigma_max ** (1 / 7))
                           for r in (0.0, 0.5, 1.0)]) ** 7
    sigmas = torch.cat([sigmas, torch.zeros(1)])
    ours = result.values[ids["sampler"]]["latent"]["samples"]
    torch.testing.assert_close(ours, reference(result, ids, sigmas, table.sigmas), atol=2e-4, rtol=1e-4)


def test_denoise_keeps_steps_and_runs_the_low_end_of_a_longer_schedule(tiny_sd, executor, tmp_path, source_png):
    from graphs import img2img

    graph, ids = img2img(tiny_sd, source_png[0], steps=3, denoise=0.5)
    graph.set_param(ids["sampler"], "convention", "comfyui")
    seen = []
    executor.subscribe(lambda e: seen.append(e.step) if getattr(e, "node_id", None) == ids["sampler"]
                       and hasattr(e, "step") else None)
    result = run(executor, graph, tmp_path)
    assert seen[-3:] == [1, 2, 3]  # ComfyUI runs `steps` steps whatever the denoise
    assert pixels(result, ids["decode"]).std() > 3


@pytest.mark.parametrize("sampler", ["heun", "dpm_2", "dpm_2_ancestral", "dpmpp_2s_ancestral", "lms", "dpmpp_2m",
                                     "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_3m_sde", "ddim", "uni_pc", "uni_pc_bh2", "lcm",
                                     "ddpm", "euler_ancestral_cfg_pp", "dpmpp_2m_cfg_pp", "dpmpp_2s_ancestral_cfg_pp",
                                     "res_multistep_cfg_pp", "res_multistep_ancestral_cfg_pp", "gradient_estimation",
                                     "gradient_estimation_cfg_pp"])
def test_every_comfyui_sampler_runs_and_is_repeatable(tiny_sd, executor, tmp_path, sampler):
    result, ids = comfy_txt2img(tiny_sd, executor, tmp_path, sampler=sampler, steps=4)
    first = pixels(result, ids["decode"])
    again, ids2 = comfy_txt2img(tiny_sd, Executor(device="cpu"), tmp_path, sampler=sampler, steps=4)
    np.testing.assert_array_equal(first, pixels(again, ids2["decode"]))
    assert first.std() > 3 and np.isfinite(result.values[ids["sampler"]]["latent"]["samples"]).all()


@pytest.mark.parametrize("scheduler", ["karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta",
                                       "linear_quadratic", "kl_optimal"])
def test_every_comfyui_schedule_runs_and_differs_from_normal(tiny_sd, executor, tmp_path, scheduler):
    normal, ids = comfy_txt2img(tiny_sd, executor, tmp_path, steps=4)
    other, ids2 = comfy_txt2img(tiny_sd, executor, tmp_path, scheduler=scheduler, steps=4)
    diff = np.abs(pixels(normal, ids["decode"]).astype(int) - pixels(other, ids2["decode"]).astype(int))
    assert diff.mean() > 0.3


def test_names_of_the_other_convention_are_clear_errors(tiny_sd, executor, tmp_path):
    graph, ids = txt2img(tiny_sd, sampler="deis", save=False)
    graph.set_param(ids["sampler"], "convention", "comfyui")
    result = executor.run(graph, output_dir=tmp_path)
    assert not result.ok and "not available in the comfyui convention" in str(result.errors)
    graph, ids = txt2img(tiny_sd, scheduler="kl_optimal", save=False)
    result = executor.run(graph, output_dir=tmp_path)
    assert not result.ok and "not available in the diffusers convention" in str(result.errors)


def test_save_image_truncates_like_comfyui_when_asked(tiny_sd, executor, tmp_path):
    from PIL import Image

    from nodes._tensors import image_to_uint8

    image = torch.tensor([0.4999, 0.999, 1.2]).reshape(1, 1, 1, 3)
    assert image_to_uint8(image, "truncate").reshape(-1).tolist() == [127, 254, 255]
    assert image_to_uint8(image).reshape(-1).tolist()[:2] == [127, 255]
    graph, ids = txt2img(tiny_sd, steps=2)
    graph.set_param(ids["out"], "eight_bit", "truncate")
    result = run(executor, graph, tmp_path)
    floats = result.values[ids["decode"]]["image"][0].numpy() * 255
    saved = np.array(Image.open(sorted(tmp_path.glob("*.png"))[-1]))
    np.testing.assert_array_equal(saved, np.clip(floats, 0, 255).astype(np.uint8))
    assert (np.round(floats) != saved).any()  # rounding would have given other pixels


def test_import_report_knows_which_pairs_are_exact():
    assert pixels_expected("euler", "karras") == (True, "deterministic")
    assert pixels_expected("euler_ancestral", "normal")[0]
    assert pixels_expected("dpmpp_2m_sde", "normal")[0]
    assert not pixels_expected("seeds_2", "normal")[0]
    assert "dpmpp_sde" in pixels_expected("seeds_2", "normal")[1]  # not implemented: its nearest runs
    assert not pixels_expected("res_multistep", "normal")[0]  # implemented, not yet compared with ComfyUI
    assert "not been compared" in pixels_expected("res_multistep", "normal")[1]
    assert not pixels_expected("euler", "made_up")[0]
