"""VAE Decode (Tiled) and VAE Encode (Tiled): ComfyUI's tiled VAE nodes, on diffusers' tiling.

Both take ComfyUI's four numbers in its order: tile_size and overlap in pixels, temporal_size and
temporal_overlap in frames. The frame numbers chunk a video VAE's frames in ComfyUI and do nothing
for an image VAE there; NodeFlow's VAEs code pictures (one frame, whatever the VAE), so they are
accepted and kept for the workflow's sake and do nothing here. Tiles are blended over the overlap
(`_tiling`), so the pixels differ from an untiled pass only slightly, near the seams.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import MemoryNeed
from nodeflow.core.types import IMAGE, INT, LATENT, VAE
from nodes.vae.codec import decode, encode

_FRAMES_HELP = ("Frames, as ComfyUI's video VAEs chunk them. NodeFlow's VAEs code pictures, one frame each, so "
                "this does nothing here (as in ComfyUI for an image VAE); it is kept for imported workflows.")


def _temporal(size_default: int, overlap_default: int) -> tuple[Input, Input]:
    return (Input("temporal_size", INT, default=size_default, min=8, max=4096, step=4, help=_FRAMES_HELP),
            Input("temporal_overlap", INT, default=overlap_default, min=4, max=4096, step=4, help=_FRAMES_HELP))


def _on_the_grid(vae: Any, tile_size: int, overlap: int) -> None:
    """Tiles start and blend on whole latent cells: both sizes must be multiples of the VAE's factor."""
    factor = vae.scale_factor
    for name, value in (("tile_size", tile_size), ("overlap", overlap)):
        if value % factor:
            raise NodeError(f"{name} {value} is not a multiple of the VAE's factor {factor}", name)


def _tile_memory(params: Mapping[str, Any], what: str) -> list[MemoryNeed]:
    """One tile's feature maps at full resolution: ~10 maps of 128 channels in float32."""
    tile = params.get("tile_size")
    if not isinstance(tile, int):
        return []
    return [MemoryNeed(tile * tile * 128 * 10 * 4, "tile_size", f"one {tile}x{tile} tile of the VAE {what}")]


class VAEDecodeTiled(Node):
    type_id = "vae.decode_tiled"
    title = "VAE Decode (Tiled)"
    category = "vae"
    description = (
        "VAE Decode in tiles of tile_size pixels that overlap by overlap pixels, blended there (diffusers' "
        "tiling): large pictures, or SDXL on a small card, decode in the memory of one tile. As in ComfyUI, an "
        "overlap of more than a quarter of the tile is cut to a quarter. Pixels differ slightly from an "
        "untiled decode near the seams."
    )
    inputs = (Input("latent", LATENT), Input("vae", VAE),
              Input("tile_size", INT, default=512, min=64, max=4096, step=32,
                    help="Tile side in pixels; smaller tiles need less memory."),
              Input("overlap", INT, default=64, min=0, max=4096, step=32,
                    help="Pixels each tile shares with its neighbours, blended; at most a quarter of the tile."),
              *_temporal(64, 8))
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, latent: dict, vae: Any, tile_size: int, overlap: int = 64,
            temporal_size: int = 64, temporal_overlap: int = 8) -> tuple[Any]:
        _on_the_grid(vae, tile_size, overlap)
        if overlap * 4 > tile_size:
            quarter = tile_size // 4 // vae.scale_factor * vae.scale_factor
            ctx.warn(f"overlap {overlap} is more than a quarter of tile_size {tile_size}; {quarter} is used, "
                     "as ComfyUI does")
            overlap = quarter
        return (decode(vae, latent, tile_size, overlap),)

    @classmethod
    def memory_needs(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[MemoryNeed]:
        return _tile_memory(params, "decode")


class VAEEncodeTiled(Node):
    type_id = "vae.encode_tiled"
    title = "VAE Encode (Tiled)"
    category = "vae"
    description = (
        "VAE Encode in tiles of tile_size pixels that overlap by overlap pixels, blended there (diffusers' "
        "tiling): large pictures encode in the memory of one tile. The latent differs slightly from an "
        "untiled encode near the seams. Sizes not a multiple of the VAE's factor are cropped."
    )
    inputs = (Input("pixels", IMAGE), Input("vae", VAE),
              Input("tile_size", INT, default=512, min=64, max=4096, step=64,
                    help="Tile side in pixels; smaller tiles need less memory."),
              Input("overlap", INT, default=64, min=0, max=4096, step=32,
                    help="Pixels each tile shares with its neighbours, blended; less than the tile."),
              *_temporal(64, 8))
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, pixels: Any, vae: Any, tile_size: int, overlap: int = 64,
            temporal_size: int = 64, temporal_overlap: int = 8) -> tuple[dict]:
        _on_the_grid(vae, tile_size, overlap)
        if overlap >= tile_size:
            raise NodeError(f"overlap {overlap} is not smaller than tile_size {tile_size}", "overlap")
        return (encode(ctx, pixels, vae, tile_size, overlap),)

    @classmethod
    def memory_needs(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[MemoryNeed]:
        return _tile_memory(params, "encode")
