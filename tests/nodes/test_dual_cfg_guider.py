"""Dual CFG Guider (ComfyUI's DualCFGGuider): its mix of three prompts, written out on tensors, and end to end
on a tiny SD in the comfyui convention against CFG Guider where the two must agree."""

from __future__ import annotations

import pytest
import torch
from graphs import add, new_graph, run

from nodeflow.core import NodeError
from nodeflow.engine import Executor
from nodes.sampling._dual_cfg import mix, runs
from nodes.values import Guider


def _guider(cfg1: float, cfg2: float, nested: bool = False) -> Guider:
    return Guider(None, None, None, cfg1, middle=(None, cfg2, nested))


def test_mix_regular_and_nested_written_out():
    p, m, n = (torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(s)) for s in (1, 2, 3))
    assert torch.equal(mix(_guider(5.0, 3.0), p, m, n), n + (m - n) * 3.0 + (p - m) * 5.0)
    assert torch.equal(mix(_guider(5.0, 3.0, True), p, m, n), n + (m + (p - m) * 5.0 - n) * 3.0)
    # nested at (cfg1, cfg2) is regular at (cfg1 * cfg2, cfg2) up to rounding, and not regular at (cfg1, cfg2)
    torch.testing.assert_close(mix(_guider(2.0, 3.0, True), p, m, n), mix(_guider(6.0, 3.0), p, m, n))
    assert (mix(_guider(2.0, 3.0, True), p, m, n) - mix(_guider(2.0, 3.0), p, m, n)).abs().mean() > 1.0
    # with the middle equal to the negative, regular is CFG Guider's mix to the bit
    assert torch.equal(mix(_guider(5.0, 3.0), p, n, n), n + (p - n) * 5.0)


def test_cfg_one_skips_what_comfyui_skips():
    assert runs(5.0, 3.0, False) == (True, True)
    assert runs(5.0, 1.0, False) == (True, False)  # cfg2 1: the negative is not run
    assert runs(1.0, 1.0, False) == (False, False)  # both 1: the positive alone
    assert runs(1.0, 1.0, True) == (True, True)
    p, m = torch.ones(1, 4, 2, 2), torch.zeros(1, 4, 2, 2)
    assert torch.equal(mix(_guider(5.0, 1.0), p, m, None), m + (p - m) * 5.0)
    assert torch.equal(mix(_guider(1.0, 1.0), p, None, None), p)


@pytest.fixture(scope="module")
def runs_on_tiny_sd(tiny_sd, tmp_path_factory):
    """Latents of several guiders over the same noise, schedule and sampler (comfyui convention, 3 steps)."""
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_sd))
    text = {name: add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text=words)
            for name, words in (("pos", "a red circle"), ("neg", ""), ("mid", "a blue square"), ("other", "green"))}
    latent = add(g, "latent.empty", {"vae": (ckpt, "vae")}, width=32, height=32, batch_size=1)
    pick = add(g, "sampling.sampler_select", sampler_name="euler")
    sigmas = add(g, "sampling.scheduler", {"model": (ckpt, "model")}, scheduler="normal", steps=3, denoise=1.0,
                 convention="comfyui")
    noise = add(g, "noise.random", seed=7)
    model = {"model": (ckpt, "model")}

    def cfg(pos, neg, scale):
        return add(g, "sampling.cfg_guider", {**model, "positive": (text[pos], "conditioning"),
                                               "negative": (text[neg], "conditioning")}, cfg=scale)

    def dual(cond1, cond2, negative, cfg1, cfg2, style):
        return add(g, "sampling.dual_cfg_guider", {**model, "cond1": (text[cond1], "conditioning"),
                                                    "cond2": (text[cond2], "conditioning"),
                                                    "negative": (text[negative], "conditioning")},
                   cfg_conds=cfg1, cfg_cond2_negative=cfg2, style=style)

    guiders = {
        "cfg": cfg("pos", "neg", 5.0),
        "dual_same": dual("pos", "neg", "neg", 5.0, 3.0, "regular"),
        "nested_same": dual("pos", "neg", "neg", 5.0, 3.0, "nested"),
        "cfg_mid": cfg("pos", "mid", 5.0),
        "dual_cfg2_one": dual("pos", "mid", "other", 5.0, 1.0, "regular"),
        "regular": dual("pos", "mid", "neg", 6.0, 3.0, "regular"),
        "nested": dual("pos", "mid", "neg", 2.0, 3.0, "nested"),
    }
    samples = {name: add(g, "sampling.sample", {"noise": (noise, "noise"), "guider": (guider, "guider"),
                                                 "sampler": (pick, "sampler"), "sigmas": (sigmas, "sigmas"),
                                                 "latent_image": (latent, "latent")})
               for name, guider in guiders.items()}
    for sample in samples.values():
        decode = add(g, "vae.decode", {"latent": (sample, "latent"), "vae": (ckpt, "vae")})
        add(g, "image.preview", {"images": (decode, "image")})
    with pytest.MonkeyPatch.context() as patch:  # the test-wide read rule is set per test, after this fixture
        patch.setenv("NODEFLOW_ALLOW_READ", str(tmp_path_factory.getbasetemp()))
        result = run(Executor(device="cpu"), g, tmp_path_factory.mktemp("dual"))
    return {name: result.values[s]["latent"]["samples"] for name, s in samples.items()}


def test_cond2_equal_to_negative_is_cfg_guider(runs_on_tiny_sd):
    out = runs_on_tiny_sd
    # the negative runs in a call of its own (CFG Guider's in one batch with the positive): equal to rounding
    torch.testing.assert_close(out["dual_same"], out["cfg"], atol=1e-4, rtol=1e-5)
    # nested multiplies the prompts' difference by both scales: a different picture
    assert (out["nested_same"] - out["cfg"]).abs().mean() > 0.05


def test_cfg2_one_never_runs_the_negative(runs_on_tiny_sd):
    """cfg_cond2_negative 1: CFG Guider from cond2 at cfg_conds, whatever the negative says."""
    assert torch.equal(runs_on_tiny_sd["dual_cfg2_one"], runs_on_tiny_sd["cfg_mid"])


def test_nested_is_regular_with_the_scales_multiplied(runs_on_tiny_sd):
    out = runs_on_tiny_sd
    torch.testing.assert_close(out["nested"], out["regular"], atol=1e-4, rtol=1e-4)
    assert (out["regular"] - out["cfg"]).abs().mean() > 0.05


def test_unet_in_the_diffusers_convention_is_one_line(tiny_sd, tmp_path):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_sd))
    pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    guider = add(g, "sampling.dual_cfg_guider", {"model": (ckpt, "model"), "cond1": (pos, "conditioning"),
                                                 "cond2": (pos, "conditioning"), "negative": (pos, "conditioning")},
                 cfg_conds=2.0, cfg_cond2_negative=2.0, style="regular")
    latent = add(g, "latent.empty", {"vae": (ckpt, "vae")}, width=32, height=32, batch_size=1)
    sigmas = add(g, "sampling.scheduler", {"model": (ckpt, "model")}, scheduler="normal", steps=2, denoise=1.0)
    noise, pick = add(g, "noise.random", seed=1), add(g, "sampling.sampler_select", sampler_name="euler")
    sample = add(g, "sampling.sample", {"noise": (noise, "noise"), "guider": (guider, "guider"),
                                        "sampler": (pick, "sampler"), "sigmas": (sigmas, "sigmas"),
                                        "latent_image": (latent, "latent")})
    decode = add(g, "vae.decode", {"latent": (sample, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    result = Executor(device="cpu").run(g, output_dir=tmp_path)
    assert not result.ok
    assert "Dual CFG Guider runs flow models" in str(result.errors)


def test_unknown_style_is_refused():
    from nodes.sampling.dual_cfg import DualCFGGuider

    with pytest.raises(NodeError, match="unknown style 'wide'"):
        DualCFGGuider().run(None, None, None, None, None, 1.0, 1.0, "wide")
