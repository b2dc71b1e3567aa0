"""A run split over two samplers gives the same picture as one sampler over all the steps.

KSampler Advanced [0, k) with leftover noise, then [k, n) without adding noise, must equal the
Sampler over n steps pixel for pixel for deterministic one-step samplers, in both conventions; and
the custom-sampling way (Scheduler -> Split Sigmas -> two Sample nodes) likewise.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import add, new_graph, pixels, run, txt2img

from nodeflow.engine import Executor
from nodes.sampling._convention import comfy_sigmas, diffusers_sigmas
from nodes.values import Schedule


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _prompts(g, checkpoint):
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    neg = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="")
    latent = add(g, "latent.empty", {"vae": (ckpt, "vae")}, width=32, height=32, batch_size=1)
    return ckpt, pos, neg, latent


def split_graph(checkpoint, *, sampler, convention, steps, split, seed=11):
    g = new_graph()
    ckpt, pos, neg, latent = _prompts(g, checkpoint)
    common = dict(steps=steps, cfg=7.0, sampler_name=sampler, scheduler="normal", convention=convention)
    links = {"model": (ckpt, "model"), "positive": (pos, "conditioning"), "negative": (neg, "conditioning")}
    first = add(g, "sampling.sampler_advanced", {**links, "latent_image": (latent, "latent")}, add_noise=True,
                noise_seed=seed, start_at_step=0, end_at_step=split, return_with_leftover_noise=True, **common)
    second = add(g, "sampling.sampler_advanced", {**links, "latent_image": (first, "latent")}, add_noise=False,
                 noise_seed=seed, start_at_step=split, end_at_step=10000, return_with_leftover_noise=False, **common)
    decode = add(g, "vae.decode", {"latent": (second, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    return g, decode


def whole(checkpoint, executor, tmp_path, *, sampler, convention, steps, seed=11):
    graph, ids = txt2img(checkpoint, seed=seed, steps=steps, sampler=sampler, save=False)
    graph.set_param(ids["sampler"], "convention", convention)
    return pixels(run(executor, graph, tmp_path), ids["decode"])


@pytest.mark.parametrize(("convention", "sampler"), [("diffusers", "euler"), ("diffusers", "heun"),
                                                     ("diffusers", "ddim"), ("comfyui", "euler"),
                                                     ("comfyui", "heun"), ("comfyui", "dpm_2")])
def test_split_at_k_of_n_equals_one_sampler(tiny_sd, executor, tmp_path, convention, sampler):
    graph, decode = split_graph(tiny_sd, sampler=sampler, convention=convention, steps=5, split=2)
    split = pixels(run(executor, graph, tmp_path), decode)
    np.testing.assert_array_equal(split, whole(tiny_sd, executor, tmp_path, sampler=sampler,
                                               convention=convention, steps=5))


@pytest.mark.parametrize("convention", ["diffusers", "comfyui"])
def test_an_early_end_without_leftover_noise_denoises_fully(tiny_sd, executor, tmp_path, convention):
    """Ending at step 3 without leftover noise lands on the model's x0 estimate at step 2 (an Euler
    step to sigma 0): with x2 and x3 from runs ending at steps 2 and 3 with their noise,
    x3 = x2 + (x2 - x0) * (s3 - s2) / s2."""
    g = new_graph()
    ckpt, pos, neg, latent = _prompts(g, tiny_sd)
    links = {"model": (ckpt, "model"), "positive": (pos, "conditioning"), "negative": (neg, "conditioning"),
             "latent_image": (latent, "latent")}
    runs = {}
    for end, leftover in ((2, True), (3, True), (3, False)):
        runs[end, leftover] = add(g, "sampling.sampler_advanced", links, add_noise=True, noise_seed=1, steps=6,
                                  cfg=7.0, sampler_name="euler", scheduler="normal", start_at_step=0,
                                  end_at_step=end, return_with_leftover_noise=leftover, convention=convention)
        decode = add(g, "vae.decode", {"latent": (runs[end, leftover], "latent"), "vae": (ckpt, "vae")})
        add(g, "image.preview", {"images": (decode, "image")})
    result = run(executor, g, tmp_path)
    x2, x3, x0 = (result.values[runs[k]]["latent"]["samples"] for k in ((2, True), (3, True), (3, False)))
    model = result.values[ckpt]["model"]
    if convention == "comfyui":
        sigmas = comfy_sigmas(model, "normal", 6, 1.0)
    else:
        sigmas = diffusers_sigmas(model, Schedule("normal", 6))
    s2, s3 = float(sigmas[2]), float(sigmas[3])
    torch.testing.assert_close(x3, x2 + (x2 - x0) * (s3 - s2) / s2, atol=1e-3, rtol=1e-4)
    assert (x3 - x0).abs().mean() > 0.1


def test_custom_sampling_split_with_split_sigmas(tiny_sd, executor, tmp_path):
    def graph(split):
        g = new_graph()
        ckpt, pos, neg, latent = _prompts(g, tiny_sd)
        guider = add(g, "sampling.cfg_guider", {"model": (ckpt, "model"), "positive": (pos, "conditioning"),
                                                 "negative": (neg, "conditioning")}, cfg=7.0)
        pick = add(g, "sampling.sampler_select", sampler_name="euler")
        sigmas = add(g, "sampling.scheduler", {"model": (ckpt, "model")}, scheduler="karras", steps=5,
                     denoise=1.0, convention="comfyui")
        noise = add(g, "noise.random", seed=4)
        parts = {"guider": (guider, "guider"), "sampler": (pick, "sampler")}
        if split is None:
            last = add(g, "sampling.sample", {**parts, "noise": (noise, "noise"), "sigmas": (sigmas, "sigmas"),
                                              "latent_image": (latent, "latent")})
        else:
            cut = add(g, "sampling.split_sigmas", {"sigmas": (sigmas, "sigmas")}, step=split)
            first = add(g, "sampling.sample", {**parts, "noise": (noise, "noise"), "sigmas": (cut, "high_sigmas"),
                                               "latent_image": (latent, "latent")})
            off = add(g, "noise.disable")
            last = add(g, "sampling.sample", {**parts, "noise": (off, "noise"), "sigmas": (cut, "low_sigmas"),
                                              "latent_image": (first, "latent")})
        decode = add(g, "vae.decode", {"latent": (last, "latent"), "vae": (ckpt, "vae")})
        add(g, "image.preview", {"images": (decode, "image")})
        return g, decode

    results = [pixels(run(executor, g, tmp_path), d) for g, d in (graph(None), graph(3))]
    np.testing.assert_array_equal(results[0], results[1])


def test_karras_node_and_basic_guider(tiny_sd, executor, tmp_path):
    """Karras Scheduler over the model's range equals the comfyui Sampler's karras; Basic Guider is cfg 1."""
    g = new_graph()
    ckpt, pos, neg, latent = _prompts(g, tiny_sd)
    karras = add(g, "sampling.karras_scheduler", steps=4, sigma_max=14.614642, sigma_min=0.0291675, rho=7.0)
    noise = add(g, "noise.random", seed=2)
    pick = add(g, "sampling.sampler_select", sampler_name="euler")
    outs = []
    for guider in (add(g, "sampling.basic_guider", {"model": (ckpt, "model"), "conditioning": (pos, "conditioning")}),
                   add(g, "sampling.cfg_guider", {"model": (ckpt, "model"), "positive": (pos, "conditioning")},
                       cfg=1.0)):
        sample = add(g, "sampling.sample", {"noise": (noise, "noise"), "guider": (guider, "guider"),
                                            "sampler": (pick, "sampler"), "sigmas": (karras, "sigmas"),
                                            "latent_image": (latent, "latent")})
        outs.append(add(g, "vae.decode", {"latent": (sample, "latent"), "vae": (ckpt, "vae")}))
        add(g, "image.preview", {"images": (outs[-1], "image")})
    result = run(executor, g, tmp_path)
    basic, cfg1 = (pixels(result, o) for o in outs)
    np.testing.assert_array_equal(basic, cfg1)
    graph, ids = txt2img(tiny_sd, seed=2, steps=4, cfg=1.0, scheduler="karras", save=False)
    graph.set_param(ids["sampler"], "convention", "comfyui")
    sampler = pixels(run(executor, graph, tmp_path), ids["decode"])
    assert np.abs(sampler.astype(int) - basic.astype(int)).max() <= 1
    values = result.values[karras]["sigmas"].values
    assert [round(float(v), 3) for v in values] == [14.615, 3.169, 0.447, 0.029, 0.0]  # Karras et al. 2022, eq. 5
