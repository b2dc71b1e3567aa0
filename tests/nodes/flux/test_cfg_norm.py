"""CFG Norm (ComfyUI's CFGNorm) and Renorm CFG (its RenormCFG) from their definitions: after guidance the
guided x0 never grows past the positive prompt's norm per latent cell; before guidance the guided noise is
brought to the positive prompt's norm; Renorm CFG holds the mix to a multiple of the positive prompt's norm
over the sample; the diffusers convention refuses both in one line."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from nodes.sampling._cfg_norm import apply


def _case():
    g = torch.Generator().manual_seed(0)
    x, cond, uncond = (torch.randn(2, 4, 8, 8, generator=g) for _ in range(3))
    return x, cond, uncond, uncond + 5.0 * (cond - uncond)


def test_after_guidance_the_prediction_is_capped_at_the_positive_norm():
    x, cond, uncond, guided = _case()
    out = apply((1.0, False), x, cond, uncond, guided, 5.0)
    cap = torch.norm(cond, dim=1)
    assert bool((torch.norm(out, dim=1) <= cap * (1 + 1e-5)).all())
    small = guided * 0.01  # already below the positive norm: unchanged (the scale is clamped at 1)
    assert torch.equal(apply((1.0, False), x, cond, uncond, small, 5.0), small)
    torch.testing.assert_close(apply((0.5, False), x, cond, uncond, guided, 5.0), out * 0.5)


def test_before_guidance_the_noise_takes_the_positive_norm():
    x, cond, uncond, guided = _case()
    out = apply((1.0, True), x, cond, uncond, guided, 5.0)
    torch.testing.assert_close(torch.norm(x - out, dim=1), torch.norm(x - cond, dim=1))
    torch.testing.assert_close(apply((0.0, True), x, cond, uncond, guided, 5.0), guided, atol=1e-5, rtol=1e-5)
    assert torch.equal(apply((1.0, True), x, cond, None, cond, 1.0), x - (x - cond))  # no guidance: unchanged


def test_a_prediction_grown_past_the_number_range_is_one_line():
    from nodeflow.core import NodeError

    x, cond, uncond, guided = _case()
    with pytest.raises(NodeError) as caught:
        apply((100.0, False), x, cond * 1e37, uncond, cond * 1e37, 5.0)
    assert caught.value.field == "strength" and "\n" not in str(caught.value)


def test_cfg_norm_runs_in_the_comfyui_convention_and_is_refused_in_the_diffusers_one(tiny_flux):
    from nodeflow.core import NodeError, RunContext
    from nodes.conditioning._text_encode import encode_text
    from nodes.models._checkpoint import load_checkpoint
    from nodes.sampling._comfy_sampling import sample
    from nodes.sampling._flow_table import FlowSigmaTable
    from nodes.sampling._loop import sample as diffusers_sample
    from nodes.sampling._sigma_schedules import schedule
    from nodes.values import Conditioning, Guider, NoiseSource, SamplerChoice, Schedule

    model, clip, _ = load_checkpoint(tiny_flux, "cpu", torch.float32)
    ctx = RunContext()
    positive = Conditioning([encode_text(ctx, clip, "a red circle")])
    negative = Conditioning([encode_text(ctx, clip, "")])
    normed = dataclasses.replace(model, cfg_norm=(1.0, False))
    sigmas = schedule(FlowSigmaTable.for_model(model), "simple", 2)
    latent = {"samples": torch.zeros(1, 16, 16, 16)}
    runs = [sample(ctx, Guider(m, positive, negative, 6.0), SamplerChoice("euler"), sigmas, NoiseSource(1), latent)
            for m in (model, normed)]
    plain, capped = (r["samples"] for r in runs)
    assert torch.isfinite(capped).all() and not torch.equal(plain, capped)
    with pytest.raises(NodeError) as caught:
        diffusers_sample(ctx, Guider(normed, positive, negative, 6.0), SamplerChoice("euler"),
                         Schedule("normal", 2, 1.0), NoiseSource(1), latent)
    assert caught.value.field == "model" and "comfyui convention" in str(caught.value)


def test_renorm_cfg_holds_the_mix_to_a_multiple_of_the_positive_norm():
    """ComfyUI's RenormCFG from its definition: the mix below cfg_trunc, scaled down to renorm_cfg times the
    positive prompt's norm over the whole sample when it reaches it; the positive prompt from cfg_trunc on."""
    from nodes.sampling._cfg_norm import renorm

    _, cond, uncond, guided = _case()
    out = renorm((100.0, 1.0), cond, uncond, 5.0, 0.5)
    norms = (torch.linalg.vector_norm(t.flatten(1), dim=1) for t in (out, cond))
    torch.testing.assert_close(*norms)  # a strong mix is brought back to the positive prompt's size
    scale = torch.linalg.vector_norm(cond.flatten(1), dim=1) / torch.linalg.vector_norm(guided.flatten(1), dim=1)
    torch.testing.assert_close(out, guided * scale[:, None, None, None])
    assert torch.equal(renorm((100.0, 50.0), cond, uncond, 5.0, 0.5), guided)  # below the limit: the plain mix
    assert torch.equal(renorm((100.0, 0.0), cond, uncond, 5.0, 0.5), guided)  # 0: no limit
    assert torch.equal(renorm((0.5, 1.0), cond, uncond, 5.0, 0.5), cond)  # from cfg_trunc on: the positive
    torch.testing.assert_close(renorm((100.0, 0.5), cond, None, 1.0, 0.5), cond * 0.5)  # cfg 1: a zero negative


def test_renorm_cfg_runs_lumina2_in_the_comfyui_convention_and_is_refused_in_the_diffusers_one(tiny_lumina2):
    from nodeflow.core import NodeError, RunContext
    from nodes.conditioning._text_encode import encode_text
    from nodes.models._checkpoint import load_checkpoint
    from nodes.sampling._comfy_sampling import sample
    from nodes.sampling._flow_table import FlowSigmaTable
    from nodes.sampling._loop import sample as diffusers_sample
    from nodes.sampling._sigma_schedules import schedule
    from nodes.sampling.cfg_norm import RenormCFG
    from nodes.values import Conditioning, Guider, NoiseSource, SamplerChoice, Schedule

    model, clip, _ = load_checkpoint(tiny_lumina2, "cpu", torch.float32)
    ctx = RunContext()
    positive = Conditioning([encode_text(ctx, clip, "a red circle")])
    negative = Conditioning([encode_text(ctx, clip, "")])
    sigmas = schedule(FlowSigmaTable.for_model(model), "simple", 2)
    latent = {"samples": torch.zeros(1, 16, 8, 8)}

    def run(m, cfg):
        return sample(ctx, Guider(m, positive, negative, cfg), SamplerChoice("euler"), sigmas, NoiseSource(1),
                      latent)["samples"]

    (renormed,) = RenormCFG().run(ctx, model)
    (truncated,) = RenormCFG().run(ctx, model, cfg_trunc=0.0)
    plain = run(model, 8.0)
    held = run(renormed, 8.0)
    assert torch.isfinite(held).all() and not torch.equal(plain, held)
    assert torch.equal(run(truncated, 8.0), run(model, 1.0))  # never guided: the positive prompt alone
    with pytest.raises(NodeError) as caught:
        RenormCFG().run(ctx, model, renorm_cfg=-1.0)
    assert caught.value.field == "renorm_cfg"
    with pytest.raises(NodeError) as caught:
        diffusers_sample(ctx, Guider(renormed, positive, negative, 8.0), SamplerChoice("euler"),
                         Schedule("normal", 2, 1.0), NoiseSource(1), latent)
    assert caught.value.field == "model" and "Renorm CFG follows ComfyUI's sampling" in str(caught.value)
