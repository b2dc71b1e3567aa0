"""LTXV Scheduler: equal steps shifted by the latent's token count, stretched to end at `terminal`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.ltx2.schedule import Scheduler

CTX = RunContext()


def _reference(steps, max_shift, base_shift, stretch, terminal, tokens):
    """The same levels in float64 numpy, written from the description."""
    t = np.linspace(1.0, 0.0, steps + 1)
    mu = base_shift + (tokens - 1024) * (max_shift - base_shift) / 3072
    out = np.zeros_like(t)
    out[t > 0] = math.exp(mu) / (math.exp(mu) + 1 / t[t > 0] - 1)
    if stretch:
        z = 1 - out[t > 0]
        out[t > 0] = 1 - z * (1 - terminal) / z[-1]
    return out


@pytest.mark.parametrize(("stretch", "latent"), [(True, None), (False, None), (True, (1, 128, 13, 16, 24))])
def test_levels_follow_the_token_count_and_stretch(stretch, latent):
    given = None if latent is None else {"samples": torch.zeros(latent)}
    (sigmas,) = Scheduler().run(CTX, 20, 2.05, 0.95, stretch, 0.1, given)
    tokens = 4096 if latent is None else 13 * 16 * 24
    values = sigmas.values
    assert values.shape == (21,) and values.dtype == torch.float32
    np.testing.assert_allclose(values.numpy(), _reference(20, 2.05, 0.95, stretch, 0.1, tokens), atol=2e-6)
    assert math.isclose(float(values[0]), 1.0, abs_tol=1e-6) and values[-1] == 0.0
    assert bool((values[1:] < values[:-1]).all())
    if stretch:
        assert math.isclose(float(values[-2]), 0.1, abs_tol=1e-6)


def test_bad_values_name_their_field():
    with pytest.raises(NodeError) as error:
        Scheduler().run(CTX, 10, 2.05, 0.95, True, 1.0)
    assert error.value.field == "terminal"
