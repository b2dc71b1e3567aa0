"""Dual CFG Guider on a flow transformer (tiny SD3, whose pipeline batches a prompt with its negative), in both
conventions: with cond2 the negative it is CFG Guider (the negative's own call rounds apart), at
cfg_cond2_negative 1 it is CFG Guider from cond2 to the bit (the negative never runs), and nested is regular
with the scales multiplied."""

from __future__ import annotations

import pytest
import torch
from graphs import add, new_graph, run

from nodeflow.engine import Executor


@pytest.fixture(scope="module", params=["diffusers", "comfyui"])
def latents(request, tiny_sd3, tmp_path_factory):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_sd3))
    text = {name: add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text=words)
            for name, words in (("pos", "a red circle"), ("neg", ""), ("mid", "a blue square"), ("other", "green"))}
    latent = add(g, "latent.empty", {"vae": (ckpt, "vae")}, width=32, height=32, batch_size=1)
    pick = add(g, "sampling.sampler_select", sampler_name="euler")
    sigmas = add(g, "sampling.scheduler", {"model": (ckpt, "model")}, scheduler="normal", steps=2, denoise=1.0,
                 convention=request.param)
    noise = add(g, "noise.random", seed=3)
    model = {"model": (ckpt, "model")}

    def sample(guider):
        return add(g, "sampling.sample", {"noise": (noise, "noise"), "guider": (guider, "guider"),
                                          "sampler": (pick, "sampler"), "sigmas": (sigmas, "sigmas"),
                                          "latent_image": (latent, "latent")})

    def cfg(pos, neg, scale):
        return sample(add(g, "sampling.cfg_guider", {**model, "positive": (text[pos], "conditioning"),
                                                      "negative": (text[neg], "conditioning")}, cfg=scale))

    def dual(cond1, cond2, negative, cfg1, cfg2, style):
        return sample(add(g, "sampling.dual_cfg_guider", {**model, "cond1": (text[cond1], "conditioning"),
                                                           "cond2": (text[cond2], "conditioning"),
                                                           "negative": (text[negative], "conditioning")},
                          cfg_conds=cfg1, cfg_cond2_negative=cfg2, style=style))

    samples = {"cfg": cfg("pos", "neg", 5.0), "dual_same": dual("pos", "neg", "neg", 5.0, 3.0, "regular"),
               "cfg_mid": cfg("pos", "mid", 5.0), "dual_cfg2_one": dual("pos", "mid", "other", 5.0, 1.0, "regular"),
               "regular": dual("pos", "mid", "neg", 6.0, 3.0, "regular"),
               "nested": dual("pos", "mid", "neg", 2.0, 3.0, "nested")}
    for s in samples.values():
        add(g, "image.preview", {"images": (add(g, "vae.decode", {"latent": (s, "latent"), "vae": (ckpt, "vae")}),
                                            "image")})
    with pytest.MonkeyPatch.context() as patch:  # the test-wide read rule is set per test, after this fixture
        patch.setenv("NODEFLOW_ALLOW_READ", str(tmp_path_factory.getbasetemp()))
        result = run(Executor(device="cpu"), g, tmp_path_factory.mktemp("dual_flow"))
    return {name: result.values[s]["latent"]["samples"] for name, s in samples.items()}


def test_dual_cfg_guider_on_a_flow_model(latents):
    torch.testing.assert_close(latents["dual_same"], latents["cfg"], atol=1e-4, rtol=1e-5)
    assert torch.equal(latents["dual_cfg2_one"], latents["cfg_mid"])
    torch.testing.assert_close(latents["nested"], latents["regular"], atol=1e-4, rtol=1e-4)
    assert (latents["regular"] - latents["cfg"]).abs().mean() > 0.01
