"""The comfyui convention on flow models: the shifted-time sigma table (the published formulas) and
a k-diffusion Euler run over it, checked against diffusers' FlowMatch Euler on the same sigmas."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import RunContext


def test_flow_table_follows_the_shift_formulas():
    from nodes.sampling._flow_table import FlowSigmaTable
    from nodes.sampling._sigma_schedules import schedule

    table = FlowSigmaTable.build("linear", 3.0)
    u = torch.tensor([1.0, 0.75, 0.5, 0.25])
    expected = 3 * u / (1 + 2 * u)
    sigmas = schedule(table, "simple", 4)
    torch.testing.assert_close(sigmas[:-1], expected, atol=1e-6, rtol=0)
    assert float(sigmas[-1]) == 0.0
    assert float(table.timestep(torch.tensor(0.5))) == pytest.approx(500.0)
    flux = FlowSigmaTable.build("exponential", 1.15)
    mu = torch.tensor(1.15)
    torch.testing.assert_close(flux.sigma(torch.tensor(250.0)), mu.exp() / (mu.exp() + 3.0))
    for name in ("normal", "beta", "karras", "sgm_uniform"):
        values = schedule(flux, name, 6)
        assert float(values[0]) == pytest.approx(1.0, abs=1e-3) and float(values[-1]) == 0.0
        assert bool((values[:-1] > values[1:]).all()), name


def test_comfy_euler_over_the_pipeline_sigmas_matches_flux_pipeline(tiny_flux):
    """x0 = x - sigma * v, then Euler: the same update as FlowMatchEulerDiscreteScheduler's step, so
    over the pipeline's own sigmas the two agree to float rounding (not bit for bit: ComfyUI forms x0)."""
    from flow_graphs import reference_pipe

    from nodes.conditioning._text_encode import encode_text
    from nodes.flux._adapter import pack
    from nodes.models._checkpoint import load_checkpoint
    from nodes.sampling._comfy_sampling import sample
    from nodes.values import Conditioning, Guider, NoiseSource, SamplerChoice

    model, clip, _ = load_checkpoint(tiny_flux, "cpu", torch.float32)
    ctx = RunContext()
    entry = encode_text(ctx, clip, "a red circle")
    pipe = reference_pipe("FluxPipeline", tiny_flux)
    theirs = pipe("a red circle", height=32, width=32, num_inference_steps=4, guidance_scale=3.5,
                  generator=torch.Generator("cpu").manual_seed(3), output_type="latent").images
    sigmas = pipe.scheduler.sigmas.clone()
    guider = Guider(model, Conditioning([entry]), None, 1.0)
    out = sample(ctx, guider, SamplerChoice("euler"), sigmas, NoiseSource(3), {"samples": torch.zeros(1, 16, 16, 16)})
    ours = pack(out["samples"])
    assert theirs.abs().max() > 0.1
    torch.testing.assert_close(ours, theirs, atol=2e-5, rtol=1e-4)
