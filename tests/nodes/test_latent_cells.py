"""The modern transformers read 2x2 latent cells as one token: one rule refuses the sizes they cannot read."""

from __future__ import annotations

import pytest

from nodeflow.core import NodeError
from nodes._latent_numbers import require_whole_cells


def test_even_latents_pass():
    require_whole_cells(8, 6, 8, "Flux")


@pytest.mark.parametrize("h, w", [(3, 4), (4, 5)])
def test_an_odd_side_is_refused_naming_the_field_the_family_and_the_sizes_that_work(h, w):
    with pytest.raises(NodeError) as caught:
        require_whole_cells(h, w, 8, "Krea 2")
    assert caught.value.field == "latent_image"
    message = str(caught.value)
    assert "Krea 2" in message and "multiples of 16 pixels" in message and f"{w * 8}x{h * 8}" in message
