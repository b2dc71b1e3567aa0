"""Fixtures for the diffusion node tests: tiny SD models written once per session."""

from __future__ import annotations

import pytest

pytest.importorskip("diffusers")


@pytest.fixture(scope="session")
def torch_threads():
    import torch

    torch.set_num_threads(1)  # two shared cores; one thread is steadier and about as fast here
    return 1


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory, torch_threads):
    """An epsilon-prediction tiny SD (DDIM config, as SD 1.5 ships) as a diffusers folder."""
    from tiny_sd import build

    return build(tmp_path_factory.mktemp("tiny_sd"))


@pytest.fixture(scope="session")
def tiny_vpred(tmp_path_factory, torch_threads):
    """The same, v-prediction + zero-terminal-SNR + trailing (like the built-in model)."""
    from tiny_sd import VPRED_SCHEDULER, build

    return build(tmp_path_factory.mktemp("tiny_vpred"), scheduler=VPRED_SCHEDULER)


@pytest.fixture(scope="session")
def tiny_inpaint(tmp_path_factory, torch_threads):
    """A tiny SD with a 9-channel inpainting UNet."""
    from tiny_sd import build

    return build(tmp_path_factory.mktemp("tiny_inpaint"), inpaint=True)


@pytest.fixture(scope="session")
def source_png(tmp_path_factory):
    """A 32x32 RGB picture with a gradient and a disc, and a mask PNG (white square = repaint)."""
    import numpy as np
    from PIL import Image, ImageDraw

    folder = tmp_path_factory.mktemp("images")
    y, x = np.mgrid[0:32, 0:32]
    array = np.stack([x * 8, y * 8, (x + y) * 4], axis=-1).clip(0, 255).astype("uint8")
    image = Image.fromarray(array)
    ImageDraw.Draw(image).ellipse((8, 6, 24, 22), fill=(220, 40, 40))
    image.save(folder / "source.png")
    mask = Image.new("L", (32, 32), 0)
    ImageDraw.Draw(mask).rectangle((10, 8, 25, 21), fill=255)
    mask.save(folder / "mask.png")
    return folder / "source.png", folder / "mask.png"


@pytest.fixture(scope="session")
def tiny_xl(tmp_path_factory, torch_threads):
    """A tiny SDXL (two text encoders, pooled + size conditioning)."""
    from tiny_sd import build_xl

    return build_xl(tmp_path_factory.mktemp("tiny_xl"))
