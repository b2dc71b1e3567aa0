"""VAE tiling: automatic above a fixed size (never a budget), and the explicit VAE Decode (Tiled)."""

from __future__ import annotations

import numpy as np
import pytest
from graphs import add, pixels, run, txt2img

from nodeflow.core import NodeError, RunContext
from nodeflow.engine import Executor


def test_tiled_decode_gives_the_picture_in_tiles(tiny_sd, tmp_path):
    graph, ids = txt2img(tiny_sd, width=128, height=128, steps=2, save=False)
    tiled = add(graph, "vae.decode_tiled", {"latent": (ids["sampler"], "latent"), "vae": (ids["ckpt"], "vae")},
                tile_size=64)
    add(graph, "image.preview", {"images": (tiled, "image")})
    result = run(Executor(device="cpu"), graph, tmp_path)
    whole, tiles = pixels(result, ids["decode"]), pixels(result, tiled)
    assert whole.shape == tiles.shape == (1, 128, 128, 3)
    assert not np.array_equal(whole, tiles)  # seams are blended: it really was tiled
    vae = result.values[ids["ckpt"]]["vae"].vae
    assert not vae.use_tiling  # the setting was this call's only


def test_tile_size_must_fit_the_vae(tiny_sd, tmp_path):
    from nodes.models.checkpoint import LoadCheckpoint
    from nodes.vae.codec import VAEDecodeTiled

    _, _, vae = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))
    with pytest.raises(NodeError, match="tile_size 65"):
        VAEDecodeTiled().run(RunContext(), latent={"samples": None}, vae=vae, tile_size=65)


def test_pictures_up_to_the_threshold_are_not_tiled(tiny_sd):
    import nodes.vae.codec as vae_nodes
    from nodes.models.checkpoint import LoadCheckpoint

    _, _, vae = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))
    with vae_nodes._tiled_if_large(vae, 1024, 1024):
        assert not vae.vae.use_tiling
    with vae_nodes._tiled_if_large(vae, 1024, 1032):
        assert vae.vae.use_tiling
