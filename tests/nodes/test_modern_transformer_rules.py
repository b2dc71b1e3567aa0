"""Rules every modern family's transformer shares, asked in one place: the 2x2 latent cells it reads
as one token, and the rotary axes a lone transformer file keeps from its family's shipped config."""

from __future__ import annotations

import pytest

from nodeflow.core import NodeError
from nodes._latent_numbers import require_whole_cells
from nodes.families import require_rope_width


@pytest.mark.parametrize("h, w", [(3, 4), (4, 5)])
def test_an_odd_latent_side_is_refused_naming_the_field_the_family_and_the_sizes_that_work(h, w):
    require_whole_cells(8, 6, 8, "Krea 2")  # even sides pass
    with pytest.raises(NodeError) as caught:
        require_whole_cells(h, w, 8, "Krea 2")
    assert caught.value.field == "latent_image"
    message = str(caught.value)
    assert "Krea 2" in message and "multiples of 16 pixels" in message and f"{w * 8}x{h * 8}" in message


def test_heads_of_another_width_than_the_shipped_rotary_axes_are_refused_on_the_unet_field():
    require_rope_width(128, (16, 56, 56), "Flux")  # Flux's own: passes
    with pytest.raises(NodeError) as caught:
        require_rope_width(64, (16, 56, 56), "Flux")
    assert caught.value.field == "unet"
    assert "64-wide" in str(caught.value) and "Flux's are 128 wide" in str(caught.value)


def test_a_lone_flux_file_with_other_heads_is_refused_from_its_shapes():
    torch = pytest.importorskip("torch")
    from diffusers import FluxTransformer2DModel

    from nodes.flux._adapter import denoiser_config

    torch.manual_seed(0)
    small = FluxTransformer2DModel(patch_size=1, in_channels=16, num_layers=1, num_single_layers=1,
                                   attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
                                   pooled_projection_dim=32, axes_dims_rope=(4, 6, 6))
    shapes = {k: tuple(v.shape) for k, v in small.state_dict().items()}
    base = {"axes_dims_rope": [16, 56, 56], "attention_head_dim": 128, "num_attention_heads": 24, "patch_size": 1}
    assert denoiser_config(shapes, {**base, "axes_dims_rope": [4, 6, 6]})["attention_head_dim"] == 16
    with pytest.raises(NodeError, match="16-wide attention heads") as caught:
        denoiser_config(shapes, base)  # Flux.1's shipped axes add up to 128
    assert caught.value.field == "unet"
