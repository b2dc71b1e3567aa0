"""Fixtures for the Wan tests: tiny random Wan folders, written once."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_wan(tmp_path_factory, torch_threads):
    """A tiny Wan text-to-video model as a WanPipeline folder."""
    from tiny_wan import build_wan

    return build_wan(tmp_path_factory.mktemp("tiny_wan"))


@pytest.fixture(scope="session")
def tiny_wan_i2v(tmp_path_factory, torch_threads):
    """A tiny Wan 2.2 image-to-video model (36 input channels) as a WanImageToVideoPipeline folder."""
    from tiny_wan import build_wan

    return build_wan(tmp_path_factory.mktemp("tiny_wan_i2v"), seed=1, i2v=True)


@pytest.fixture(scope="session")
def tiny_wan_ti2v(tmp_path_factory, torch_threads):
    """A tiny Wan 2.2 5B (TI2V: 48 latent channels, the Wan 2.2 VAE, expand_timesteps) WanPipeline folder."""
    from tiny_wan import build_wan

    return build_wan(tmp_path_factory.mktemp("tiny_wan_ti2v"), seed=3, ti2v=True)


@pytest.fixture(scope="session")
def tiny_wan_i2v_low(tmp_path_factory, torch_threads):
    """A second tiny Wan 2.2 image-to-video transformer (the low-noise one) as a transformer folder."""
    import torch
    from tiny_wan import wan_transformer

    torch.manual_seed(2)
    folder = tmp_path_factory.mktemp("tiny_wan_i2v_low")
    wan_transformer(36).save_pretrained(folder)
    return folder
