"""Fixtures for the flow-family tests: tiny random Flux / SD3 / Chroma folders, written once."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_flux(tmp_path_factory, torch_threads):
    """A tiny Flux.1 dev (guidance embedding, dynamic shifting) as a FluxPipeline folder."""
    from tiny_flow import build_flux

    return build_flux(tmp_path_factory.mktemp("tiny_flux"))


@pytest.fixture(scope="session")
def tiny_schnell(tmp_path_factory, torch_threads):
    """A tiny Flux.1 schnell: no guidance input, a constant shift of 1."""
    from tiny_flow import SCHNELL_SCHEDULER, build_flux

    return build_flux(tmp_path_factory.mktemp("tiny_schnell"), guidance=False, scheduler=SCHNELL_SCHEDULER, seed=1)


@pytest.fixture(scope="session")
def tiny_sd3(tmp_path_factory, torch_threads):
    """A tiny SD3 (three text encoders, patch-2 MMDiT, shift 3) as a StableDiffusion3Pipeline folder."""
    from tiny_flow import build_sd3

    return build_sd3(tmp_path_factory.mktemp("tiny_sd3"))
