"""VAE Encode for Inpaint in the comfyui convention: ComfyUI's grow_mask_by window and grey fill."""

from __future__ import annotations

import math

import pytest
import torch

from nodeflow.core import RunContext
from nodes.vae.codec import VAEEncodeForInpaint, grow_window


@pytest.mark.parametrize("k", [1, 2, 3, 5, 6, 7, 12])
def test_grow_window_is_the_box_convolution_comfyui_documents(k):
    """A k x k box sum with zero padding ceil((k - 1) / 2), cut to the mask's size, clamped."""
    mask = (torch.rand(2, 1, 24, 20, generator=torch.Generator().manual_seed(k)) > 0.9).float()
    box = torch.nn.functional.conv2d(mask, torch.ones(1, 1, k, k), padding=math.ceil((k - 1) / 2))
    assert torch.equal(grow_window(mask, k), box[..., :24, :20].clamp(0, 1))


def test_grow_by_6_reaches_2_pixels_up_left_and_3_down_right():
    mask = torch.zeros(1, 1, 16, 16)
    mask[0, 0, 8, 8] = 1
    rows, cols = torch.nonzero(grow_window(mask, 6)[0, 0], as_tuple=True)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (6, 11, 6, 11)
    assert torch.equal(grow_window(mask, 0), mask)


def test_comfyui_convention_greys_the_masked_pixels_before_encoding(tiny_sd):
    vae = _vae(tiny_sd)
    picture = torch.rand(1, 64, 64, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 64, 64)
    mask[:, 16:32, 16:40] = 0.7  # rounds to 1
    node = VAEEncodeForInpaint()
    latent = node.run(RunContext(), picture, vae, mask, 6, "comfyui")[0]
    greyed = picture.clone()
    greyed[:, 16:32, 16:40] = 0.5
    plain = node.run(RunContext(), greyed, vae, torch.zeros(1, 64, 64), 0, "comfyui")[0]
    assert torch.allclose(latent["samples"], plain["samples"], atol=1e-5)
    expected = torch.zeros(1, 1, 64, 64)
    expected[..., 14:35, 14:43] = 1  # grown 2 up/left, 3 down/right
    assert torch.equal(latent["noise_mask"], expected)
    diffusers = node.run(RunContext(), picture, vae, mask, 6, "diffusers")[0]
    assert not torch.allclose(diffusers["samples"], latent["samples"])  # the default encodes the whole picture


def _vae(folder):
    from nodes.models.checkpoint import LoadCheckpoint

    return LoadCheckpoint().run(RunContext(), str(folder))[2]
