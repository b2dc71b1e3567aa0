"""SD Turbo Scheduler (ComfyUI's SDTurboScheduler): the model's sigmas at timesteps 999, 899, ...,
denoise as a later start, a run through Sampler Custom, and its bounds."""

from __future__ import annotations

import pytest
import torch
from graphs import add, new_graph, pixels, run

from nodeflow.core.errors import GraphEditError
from nodeflow.engine import Executor
from nodes.sampling.turbo import turbo_timesteps


@pytest.mark.parametrize(("steps", "denoise", "timesteps"), [
    (1, 1.0, [999]),
    (4, 1.0, [999, 899, 799, 699]),
    (2, 0.5, [499, 399]),
    (10, 0.55, [499, 399, 299, 199, 99]),  # the list runs out
    (3, 0.29, [199, 99]),  # int(2.9) = 2: rounded down, as ComfyUI does
    (3, 0.05, []),
])
def test_the_timesteps_for_steps_and_denoise(steps, denoise, timesteps):
    assert turbo_timesteps(steps, denoise) == timesteps


def _sd_turbo_sigmas(scheduler_config: dict, timesteps: list[int]) -> torch.Tensor:
    """sigma_t = sqrt((1 - alphabar_t) / alphabar_t) from the checkpoint's betas (SD's scaled linear)."""
    betas = torch.linspace(scheduler_config["beta_start"] ** 0.5, scheduler_config["beta_end"] ** 0.5,
                           scheduler_config["num_train_timesteps"], dtype=torch.float64) ** 2
    alphabar = torch.cumprod(1 - betas, 0)[timesteps]
    return torch.cat([((1 - alphabar) / alphabar).sqrt(), torch.zeros(1, dtype=torch.float64)])


def test_sigmas_from_the_model_and_a_one_step_run_equals_comfyuis_one_step_sampler(tiny_sd, tmp_path):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_sd))
    pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    neg = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="")
    latent = add(g, "latent.empty", {"vae": (ckpt, "vae")}, width=32, height=32, batch_size=1)
    four = add(g, "sampling.sd_turbo_scheduler", {"model": (ckpt, "model")}, steps=4, denoise=0.8)
    add(g, "basic.show", {"value": (four, "sigmas")})
    one = add(g, "sampling.sd_turbo_scheduler", {"model": (ckpt, "model")})
    pick = add(g, "sampling.sampler_select", sampler_name="euler")
    links = {"model": (ckpt, "model"), "positive": (pos, "conditioning"), "negative": (neg, "conditioning")}
    custom = add(g, "sampling.sampler_custom", links | {"sampler": (pick, "sampler"), "sigmas": (one, "sigmas"),
                                                        "latent_image": (latent, "latent")}, noise_seed=3, cfg=5.0)
    sampler = add(g, "sampling.sampler", links | {"latent_image": (latent, "latent")}, seed=3, steps=1, cfg=5.0,
                  sampler_name="euler", scheduler="normal", convention="comfyui")
    decoded = [add(g, "vae.decode", {"latent": (s, "latent"), "vae": (ckpt, "vae")}) for s in (custom, sampler)]
    for d in decoded:
        add(g, "image.preview", {"images": (d, "image")})
    result = run(Executor(device="cpu"), g, tmp_path)
    config = result.values[ckpt]["model"].scheduler_config
    torch.testing.assert_close(result.values[four]["sigmas"].values.double(),
                               _sd_turbo_sigmas(config, [799, 699, 599, 499]), rtol=1e-5, atol=1e-6)
    assert [round(float(v), 4) for v in result.values[one]["sigmas"].values] == [14.6146, 0.0]
    turbo, comfy = (pixels(result, d) for d in decoded)
    assert abs(turbo.astype(int) - comfy.astype(int)).max() <= 1


@pytest.mark.parametrize(("field", "value", "words"), [
    ("steps", 11, "11 is above the maximum 10"),
    ("denoise", 1.5, "1.5 is above the maximum 1"),
])
def test_out_of_range_is_one_line_naming_node_and_field(field, value, words):
    graph = new_graph()
    with pytest.raises(GraphEditError) as info:
        add(graph, "sampling.sd_turbo_scheduler", **{field: value})
    message = str(info.value)
    assert "\n" not in message and f"node 1 input '{field}': {words}" in message
