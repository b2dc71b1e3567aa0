"""VAE tiling: automatic above a fixed size (never a budget), and the explicit VAE Decode / Encode (Tiled),
ComfyUI's nodes: tile_size and overlap honoured, the frame numbers accepted (they do nothing for pictures)."""

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
    from nodes.vae.tiled import VAEDecodeTiled

    _, _, vae = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))
    with pytest.raises(NodeError, match="tile_size 65"):
        VAEDecodeTiled().run(RunContext(), latent={"samples": None}, vae=vae, tile_size=65)


def test_pictures_up_to_the_threshold_are_not_tiled(tiny_sd):
    from nodes.models.checkpoint import LoadCheckpoint
    from nodes.vae._tiling import tiling

    _, _, vae = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))
    with tiling(vae, 1024, 1024):
        assert not vae.vae.use_tiling
    with tiling(vae, 1024, 1032):
        assert vae.vae.use_tiling


def _qwen_vae():
    """Qwen-Image's video-shaped VAE, two levels: diffusers sizes its tiles by height/width and stride."""
    import torch
    from diffusers import AutoencoderKLQwenImage

    from nodes.values import Vae

    torch.manual_seed(0)
    module = AutoencoderKLQwenImage(base_dim=16, z_dim=16, dim_mult=[1, 2], num_res_blocks=1,
                                    temperal_downsample=[False]).eval()
    return Vae(module, "cpu", torch.float32)


@pytest.mark.parametrize("kind", ["sd", "qwen"])
def test_tiled_decode_and_encode_match_the_untiled_ones_within_a_tolerance(tiny_sd, kind):
    """A 128x128 picture in 64-pixel tiles of a random tiny VAE (2x): decoded with a 16-pixel overlap,
    the mean difference is under 0.03 of the range (measured 0.018 SD, 0.004 Qwen) and under the
    difference without overlap (0.033, 0.009): the overlap is honoured. Encoding likewise (0.003, 0.002)."""
    import torch

    from nodes.models.checkpoint import LoadCheckpoint
    from nodes.vae.codec import decode, encode
    from nodes.vae.tiled import VAEDecodeTiled, VAEEncodeTiled

    vae = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))[2] if kind == "sd" else _qwen_vae()
    generator = torch.Generator().manual_seed(0)
    latent = {"samples": torch.randn(1, vae.latent_channels, 64, 64, generator=generator)}
    whole = decode(vae, latent)

    def gap(tile: int, overlap: int, **frames: int) -> float:
        tiled = VAEDecodeTiled().run(RunContext(), latent, vae, tile, overlap, **frames)[0]
        assert tiled.shape == whole.shape == (1, 128, 128, 3)
        return float((tiled - whole).abs().mean())

    blended, seams = gap(64, 16), gap(64, 0)
    assert 0 < blended < 0.03 and blended < seams
    assert gap(64, 16, temporal_size=8, temporal_overlap=4096) == blended  # frames do nothing for a picture
    assert not vae.vae.use_tiling  # the settings were the call's only

    picture = torch.rand(1, 128, 128, 3, generator=generator)
    plain = encode(RunContext(), picture, vae)["samples"]
    tiled = VAEEncodeTiled().run(RunContext(), picture, vae, 64, 16)[0]["samples"]
    assert 0 < float((tiled - plain).abs().mean()) < 0.01


def test_an_overlap_over_a_quarter_of_the_tile_is_cut_to_a_quarter_as_in_comfyui(tiny_sd):
    import torch

    from nodes.models.checkpoint import LoadCheckpoint
    from nodes.vae.tiled import VAEDecodeTiled

    vae = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))[2]
    latent = {"samples": torch.randn(1, vae.latent_channels, 48, 48, generator=torch.Generator().manual_seed(1))}
    said: list[str] = []
    context = RunContext(node_id="7", on_message=lambda node, line: said.append(f"{node}: {line}"))
    wide = VAEDecodeTiled().run(context, latent, vae, 64, 48)[0]
    assert torch.equal(wide, VAEDecodeTiled().run(RunContext(), latent, vae, 64, 16)[0])
    assert said == ["7: warning: overlap 48 is more than a quarter of tile_size 64; 16 is used, as ComfyUI does"]


@pytest.mark.parametrize(("node", "values", "field", "words"), [  # the tiny VAE's factor is 2
    ("vae.decode_tiled", {"tile_size": 65}, "tile_size", "tile_size 65 is not a multiple of the VAE's factor 2"),
    ("vae.decode_tiled", {"overlap": 13}, "overlap", "overlap 13 is not a multiple of the VAE's factor 2"),
    ("vae.encode_tiled", {"tile_size": 64, "overlap": 64}, "overlap", "overlap 64 is not smaller than tile_size 64"),
])
def test_bad_tile_values_fail_in_one_line_naming_node_and_field(tiny_sd, tmp_path, node, values, field, words):
    graph, ids = txt2img(tiny_sd, width=32, height=32, steps=1, save=False)
    decoding = node == "vae.decode_tiled"
    feed = {"latent": (ids["sampler"], "latent")} if decoding else {"pixels": (ids["decode"], "image")}
    tiled = add(graph, node, feed | {"vae": (ids["ckpt"], "vae")}, **values)
    add(graph, "image.preview" if decoding else "basic.show",
        {"images": (tiled, "image")} if decoding else {"value": (tiled, "latent")})
    result = Executor(device="cpu").run(graph, output_dir=tmp_path)
    message = result.errors[tiled]
    assert "\n" not in message and f"(input '{field}')" in message and words in message


def test_a_tile_below_comfyuis_minimum_is_refused_where_it_is_set(tiny_sd):
    from nodeflow.core.errors import GraphEditError

    graph, ids = txt2img(tiny_sd, width=32, height=32, steps=1, save=False)
    with pytest.raises(GraphEditError) as info:
        add(graph, "vae.decode_tiled", {"latent": (ids["sampler"], "latent"), "vae": (ids["ckpt"], "vae")},
            tile_size=32)
    assert "\n" not in str(info.value) and "input 'tile_size': 32 is below the minimum 64" in str(info.value)


def test_comfyuis_tiled_classes_import_with_their_four_numbers():
    """As the SeedVR2 and LTX templates save them: [tile_size, overlap, temporal_size, temporal_overlap]."""
    from nodeflow.core import default_registry
    from nodeflow.interop.comfyui import export_api, import_data
    from tests.interop.comfy_graphs import txt2img_api, ui_workflow

    registry = default_registry()
    data = ui_workflow()
    decode = next(n for n in data["nodes"] if n["id"] == 8)
    decode["type"], decode["widgets_values"] = "VAEDecodeTiled", [512, 128, 4096, 8]
    graph, report = import_data(data, registry)
    assert report.fully_mapped, report.lines()
    assert graph.nodes["8"].type == "vae.decode_tiled"
    assert {k: graph.nodes["8"].params[k] for k in ("tile_size", "overlap", "temporal_size", "temporal_overlap")} \
        == {"tile_size": 512, "overlap": 128, "temporal_size": 4096, "temporal_overlap": 8}
    api = txt2img_api()
    api["20"] = {"class_type": "VAEEncodeTiled", "inputs": {"pixels": ["8", 0], "vae": ["4", 2], "tile_size": 256,
                                                            "overlap": 32, "temporal_size": 64, "temporal_overlap": 8}}
    graph, report = import_data(api, registry)
    assert report.fully_mapped, report.lines()
    assert graph.nodes["20"].type == "vae.encode_tiled" and graph.nodes["20"].params["tile_size"] == 256
    prompt, problems = export_api(graph)
    assert not problems and prompt["20"]["class_type"] == "VAEEncodeTiled" and prompt["20"]["inputs"]["overlap"] == 32
