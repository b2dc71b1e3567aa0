"""Conditioning control: the nodes' values, and how areas, masks and time ranges mix model outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import add, pixels, run, txt2img

from nodeflow.core import NodeError, RunContext
from nodeflow.engine import Executor

CTX = RunContext()


def _cond(value: float, *, pooled: bool = False, tokens: int = 3, dim: int = 4):
    from nodes.values import CondEntry, Conditioning

    embeds = torch.full((1, tokens, dim), float(value))
    return Conditioning([CondEntry(embeds, torch.full((1, 2), float(value)) if pooled else None)])


class _EchoUNet:
    """A stand-in UNet whose output at every cell is the first feature of the prompt it was given."""

    class config:  # noqa: N801 - mimics a diffusers config object
        in_channels = 4
        time_cond_proj_dim = None

    def __init__(self):
        self.calls = []

    def __call__(self, x, t, encoder_hidden_states, **kwargs):
        self.calls.append(tuple(x.shape))
        value = encoder_hidden_states[:, 0, 0].reshape(-1, 1, 1, 1)
        return (torch.zeros_like(x) + value,)


def _call(positive, negative=None, size=(8, 8)):
    from nodes.sampling._cond_call import CondCall
    from nodes.values import Model

    unet = _EchoUNet()
    model = Model(unet=unet, scheduler_config={}, vae_scale_factor=8, latent_channels=4, device="cpu",
                  dtype=torch.float32)
    return CondCall(model, positive, negative, negative is not None, 1, size), unet


def _combine(*conds):
    from nodes.values import Conditioning

    return Conditioning([e for c in conds for e in c.entries])


def test_zero_out_and_average_values():
    from nodes.conditioning.control import ConditioningAverage, ConditioningZeroOut

    (zero,) = ConditioningZeroOut().run(CTX, _cond(3.0, pooled=True))
    assert zero.entries[0].embeds.abs().sum() == 0 and zero.entries[0].pooled.abs().sum() == 0
    (avg,) = ConditioningAverage().run(CTX, _cond(1.0, pooled=True), _cond(3.0, pooled=True, tokens=2), 0.25)
    embeds = avg.entries[0].embeds[0, :, 0]
    # 0.25 * 1 + 0.75 * 3 where 'from' has tokens; 'from' is zero-padded past its 2 tokens.
    torch.testing.assert_close(embeds, torch.tensor([2.5, 2.5, 0.25]))
    torch.testing.assert_close(avg.entries[0].pooled, torch.full((1, 2), 2.5))
    with pytest.raises(NodeError, match="different text encoders"):
        ConditioningAverage().run(CTX, _cond(1.0), _cond(1.0, dim=5), 0.5)


def test_area_prompt_is_averaged_with_the_full_prompt_inside_its_box_only():
    from nodes.conditioning.control import ConditioningSetArea

    (area,) = ConditioningSetArea().run(CTX, _cond(10.0), 32, 64, 0, 0, 3.0)  # left half, all rows
    call, unet = _call(_combine(_cond(2.0), area))
    cond, uncond = call.outputs(torch.zeros(1, 4, 8, 8), torch.tensor(500))
    assert uncond is None
    assert unet.calls == [(1, 4, 8, 8), (1, 4, 8, 4)]  # the area prompt runs on its box only
    # Inside the box (away from its inner edge): (2 * 1 + 10 * 3) / (1 + 3) = 8; outside: 2.
    assert cond[0, 0, 3, 0] == pytest.approx(8.0)
    assert cond[0, 0, 3, 7] == pytest.approx(2.0)
    # The box's right edge lies inside the picture, so the area's weight fades in there.
    assert 2.0 < cond[0, 0, 3, 3] < 8.0


def test_mask_prompt_weights_by_mask_and_uncovered_cells_get_zero():
    from nodes.conditioning.control import ConditioningSetMask

    mask = torch.zeros(1, 16, 16)
    mask[:, :8] = 1.0
    mask[:, 8:, :8] = 0.5
    (masked,) = ConditioningSetMask().run(CTX, _cond(4.0), mask, 1.0, "default")
    call, _ = _call(masked)
    cond, _ = call.outputs(torch.zeros(1, 4, 8, 8), torch.tensor(500))
    assert cond[0, 0, 0, 0] == pytest.approx(4.0)  # a lone prompt: weight cancels out where > 0
    assert cond[0, 0, 7, 7] == 0.0  # no prompt covers this cell
    (bounded,) = ConditioningSetMask().run(CTX, _cond(4.0), mask[:, :8], 1.0, "mask bounds")
    call, unet = _call(_combine(_cond(0.0), bounded))
    call.outputs(torch.zeros(1, 4, 8, 8), torch.tensor(500))
    assert unet.calls[-1] == (1, 4, 8, 8)  # the mask covers the whole (resized) latent here
    partial = torch.zeros(1, 16, 16)
    partial[:, 4:8, 2:10] = 1
    (bounded,) = ConditioningSetMask().run(CTX, _cond(4.0), partial, 1.0, "mask bounds")
    call, unet = _call(_combine(_cond(0.0), bounded))
    call.outputs(torch.zeros(1, 4, 8, 8), torch.tensor(500))
    assert unet.calls[-1] == (1, 4, 2, 4)  # rows 2-3, cols 1-4 of the 8x8 latent


def test_timestep_range_switches_prompts_at_the_schedule_fraction():
    from nodes.conditioning.control import ConditioningSetTimestepRange
    from nodes.sampling._cond_call import is_active

    (early,) = ConditioningSetTimestepRange().run(CTX, _cond(1.0), 0.0, 0.5)
    (late,) = ConditioningSetTimestepRange().run(CTX, _cond(5.0), 0.5, 1.0)
    call, _ = _call(_combine(early, late), negative=_cond(0.0))
    for t, expected in ((999, 1.0), (600, 1.0), (400, 5.0), (1, 5.0)):
        cond, uncond = call.outputs(torch.zeros(1, 4, 2, 2), torch.tensor(t))
        assert cond[0, 0, 0, 0] == expected, t
        assert uncond[0, 0, 0, 0] == 0.0
    assert is_active((0.5, 1.0), 499.5, 1000) and not is_active((0.5, 1.0), 499.6, 1000)
    with pytest.raises(NodeError, match="after end"):
        ConditioningSetTimestepRange().run(CTX, _cond(1.0), 0.7, 0.2)


def test_area_over_the_whole_picture_matches_combine_on_the_tiny_model(tiny_sd, tmp_path):
    """The general (per-region) path and the pipelines' batched path agree on a whole-picture area."""
    results = []
    for area in (False, True):
        graph, ids = txt2img(tiny_sd, prompt="red", steps=3, save=False)
        second = add(graph, "conditioning.text_encode", {"clip": (ids["ckpt"], "clip")}, text="blue")
        if area:
            second = add(graph, "conditioning.set_area", {"conditioning": (second, "conditioning")},
                         width=32, height=32, x=0, y=0, strength=1.0)
        both = add(graph, "conditioning.combine", {"conditioning_1": (ids["pos"], "conditioning"),
                                                   "conditioning_2": (second, "conditioning")})
        graph.connect(both, "conditioning", ids["sampler"], "positive")
        results.append(pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"]).astype(int))
    assert np.abs(results[0] - results[1]).max() <= 1
