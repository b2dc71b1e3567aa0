"""Tiling a VAE for one call: diffusers' own tiled decode and encode, sized in pixels.

diffusers' VAEs tile in one of two ways, each set by attributes of the module: the image VAEs
(AutoencoderKL, Flux.2's) by `tile_sample_min_size` / `tile_latent_min_size` and a
`tile_overlap_factor` (the blended band is that share of a tile), the video-shaped ones
(Qwen-Image's, Wan's) by `tile_sample_min_height/width` and `tile_sample_stride_height/width` (the
blended band is min - stride). `tiling` sets whichever the module has for a tile of `tile` pixels
whose neighbours overlap by `overlap` pixels, for the one call, and puts everything back after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from nodeflow.core import NodeError

#: Pictures of more pixels than this are decoded and encoded tile by tile with diffusers' tiling
#: (tiles of the VAE's native size, blended at the seams), so a 2048x2048 decode needs about the
#: memory of a 1024x1024 one. Below it nothing is tiled. A fixed size, never a memory budget:
#: a budget never changes pixels.
TILE_ABOVE = 1024 * 1024

_SQUARE = ("tile_sample_min_size", "tile_latent_min_size", "tile_overlap_factor")
_SIDES = ("tile_sample_min_height", "tile_sample_min_width", "tile_sample_stride_height", "tile_sample_stride_width")


def _settings(module: Any, tile: int, overlap: int, factor: int) -> dict[str, Any]:
    if all(hasattr(module, name) for name in _SQUARE):
        # an exact fraction: diffusers counts the step and the blended band as int(size * share), which a
        # float share (0.8 is 0.19999... from 1) can cut by one, shifting every tile after the first
        return {"tile_sample_min_size": tile, "tile_latent_min_size": tile // factor,
                "tile_overlap_factor": Fraction(overlap, tile)}
    if all(hasattr(module, name) for name in _SIDES):
        return {"tile_sample_min_height": tile, "tile_sample_min_width": tile,
                "tile_sample_stride_height": tile - overlap, "tile_sample_stride_width": tile - overlap}
    return {}


@contextlib.contextmanager
def tiling(vae: Any, height: int, width: int, tile: int | None = None, overlap: int = 0) -> Iterator[None]:
    """diffusers' tiling on `vae` (a `nodes.values.Vae`) for this call: in tiles of `tile` pixels
    overlapping by `overlap` when a tile is given (the Tiled nodes), else with the VAE's own tiles
    when the picture has more than TILE_ABOVE pixels."""
    module = vae.vae
    changes: dict[str, Any] = {"use_tiling": tile is not None or height * width > TILE_ABOVE}
    if tile is not None:
        sized = _settings(module, tile, overlap, vae.scale_factor)
        if not sized:
            raise NodeError(f"this VAE ({type(module).__name__}) has no tiling NodeFlow can size", "tile_size")
        changes |= sized
    before = {name: getattr(module, name, None) for name in changes}
    for name, value in changes.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(module, name, value)
