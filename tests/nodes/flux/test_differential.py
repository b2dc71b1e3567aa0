"""Differential Diffusion: a soft mask's grey levels decide from which step a cell may change."""

from __future__ import annotations

import dataclasses

import torch

from nodeflow.core import RunContext


def test_step_mask_follows_the_paper():
    from nodes.sampling._differential import progress, step_mask

    mask = torch.tensor([0.0, 0.3, 1.0])
    assert step_mask(mask, 0.5, 1.0).tolist() == [0.0, 0.0, 1.0]
    assert step_mask(mask, 0.2, 1.0).tolist() == [0.0, 1.0, 1.0]
    torch.testing.assert_close(step_mask(mask, 0.5, 0.5), torch.tensor([0.0, 0.15, 1.0]))
    assert progress(500.0, 1000.0, 0.0) == 0.5


def test_grey_cells_change_later_and_black_ones_never(tiny_flux):
    from nodes.conditioning._text_encode import encode_text
    from nodes.models._checkpoint import load_checkpoint
    from nodes.sampling._flow_loop import sample
    from nodes.values import Conditioning, Guider, NoiseSource, SamplerChoice, Schedule

    model, clip, _ = load_checkpoint(tiny_flux, "cpu", torch.float32)
    ctx = RunContext()
    positive = Conditioning([encode_text(ctx, clip, "a red circle")])
    source = torch.randn(1, 16, 16, 16, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., :, 8:] = 1.0
    mask[..., 8:, :8] = 0.4
    latent = {"samples": source, "noise_mask": mask}
    runs = {}
    for name, strength in (("plain", None), ("differential", 1.0)):
        guided = Guider(dataclasses.replace(model, differential=strength), positive, None, 1.0)
        out = sample(ctx, guided, SamplerChoice("euler"), Schedule("normal", 4), NoiseSource(2), latent)
        runs[name] = out["samples"]
    for out in runs.values():
        torch.testing.assert_close(out[..., :8, :8], source[..., :8, :8])  # black: the source, exactly kept
    grey = (runs["plain"][..., 8:, :8] - runs["differential"][..., 8:, :8]).abs().max()
    white = (runs["plain"][..., :, 8:] - runs["differential"][..., :, 8:]).abs().max()
    assert grey > 1e-3  # 0.4 grey: repainted only in the last 40% of the steps
    assert white < grey
