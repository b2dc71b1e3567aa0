"""Join with alpha, stitch, batch, Canny, compare, mask preview, Save Image (Advanced), Save Text
and Manual Sigmas: values, defaults and bad input."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nodeflow.core import NodeError, RunContext
from nodeflow.core.files import COMPARE_INFO, PNG_WORKFLOW_KEY, embedded_texts
from nodes.basic.scalars import SaveText
from nodes.image.compose import BatchImages, Canny, ImageStitch, JoinImageWithAlpha
from nodes.image.save_advanced import SaveImageAdvanced
from nodes.image.show import ImageCompare, MaskPreview
from nodes.sampling.manual import ManualSigmas, parse_sigmas


def ctx(tmp_path: Path | None = None, shown: list | None = None) -> RunContext:
    return RunContext(output_dir=tmp_path or Path.cwd(), workflow_json='{"nodes": []}',
                      on_images=lambda node, images: shown.extend(images) if shown is not None else None)


def flat(value: float, h: int = 8, w: int = 8, b: int = 1) -> torch.Tensor:
    return torch.full((b, h, w, 3), value)


def test_join_with_alpha_takes_one_minus_the_mask_resized():
    mask = torch.zeros(1, 4, 4)
    mask[:, :2] = 1.0  # the top half is cut away
    out = JoinImageWithAlpha().run(ctx(), flat(0.5), mask)[0]
    assert out.shape == (1, 8, 8, 4)
    assert out[0, 0, 0, 3] == 0.0 and out[0, 7, 7, 3] == 1.0 and torch.all(out[..., :3] == 0.5)


@pytest.mark.parametrize(("direction", "shape", "first_pixel"), [
    ("right", (1, 8, 20, 3), 0.2), ("left", (1, 8, 20, 3), 0.9), ("down", (1, 20, 8, 3), 0.2),
    ("up", (1, 20, 8, 3), 0.9),
])
def test_stitch_places_image2_with_a_gap(direction, shape, first_pixel):
    out = ImageStitch().run(ctx(), flat(0.2), flat(0.9, 4, 4), direction, True, 4, "red")[0]
    # image2 is scaled through 8 bits (lanczos): its levels are within 1/255
    assert tuple(out.shape) == shape and out[0, 0, 0, 0].item() == pytest.approx(first_pixel, abs=1 / 255)
    gap = out[0, 0, 8] if direction == "right" else out[0, 8, 0] if direction == "down" else None
    if gap is not None:
        assert gap.tolist() == [1.0, 0.0, 0.0]


def test_stitch_without_matching_pads_the_smaller_with_black_and_alone_passes_through():
    out = ImageStitch().run(ctx(), flat(0.2), flat(0.9, 4, 4), "right", False, 0, "white")[0]
    assert tuple(out.shape) == (1, 8, 12, 3) and out[0, 7, 11, 0] == 0.0 and out[0, 0, 11, 0] == pytest.approx(0.9)
    assert ImageStitch().run(ctx(), flat(0.2), None, "right", True, 0, "white")[0] is not None


def test_batch_images_resizes_to_the_first_and_refuses_nothing_linked():
    images = {f"image{n}": None for n in range(8)} | {"image0": flat(0.1), "image2": flat(0.3, 16, 16, 2)}
    out = BatchImages().run(ctx(), **images)[0]
    assert tuple(out.shape) == (3, 8, 8, 3)
    with pytest.raises(NodeError):
        BatchImages().run(ctx(), **{f"image{n}": None for n in range(8)})


def test_canny_finds_the_edge_of_a_square_and_nothing_on_a_flat_picture():
    picture = torch.zeros(1, 32, 32, 3)
    picture[:, 8:24, 8:24] = 1.0
    edges = Canny().run(ctx(), picture, 0.4, 0.8)[0]
    assert edges.shape == (1, 32, 32, 3)
    assert edges[0, 16, 7:10, 0].max() == 1.0 and edges[0, 16, 16, 0] == 0.0 and edges[0, 1, 1, 0] == 0.0
    assert Canny().run(ctx(), flat(0.5, 16, 16), 0.4, 0.8)[0].max() == 0.0
    with pytest.raises(NodeError):
        Canny().run(ctx(), picture, 0.9, 0.1)


def test_image_compare_shows_a_marked_pair_and_mask_preview_a_grey_picture():
    shown: list = []
    ImageCompare().run(ctx(shown=shown), flat(0.0, b=2), flat(1.0))
    assert [p.info[COMPARE_INFO] for p in shown] == ["a", "b"] and len(shown) == 2
    with pytest.raises(NodeError):
        ImageCompare().run(ctx(), None, None)
    shown.clear()
    mask = torch.ones(1, 4, 4)
    assert MaskPreview().run(ctx(shown=shown), mask)[0] is mask
    assert np.asarray(shown[0]).min() == 255


def test_save_image_advanced_writes_8_and_16_bit_pngs_with_the_workflow(tmp_path):
    picture = torch.linspace(0, 1, 4 * 4 * 3).reshape(1, 4, 4, 3)
    for depth in ("8-bit", "16-bit"):
        SaveImageAdvanced().run(ctx(tmp_path), picture, f"adv{depth}", "png", depth, "sRGB")
    eight, sixteen = sorted(tmp_path.glob("adv8-bit*.png"))[0], sorted(tmp_path.glob("adv16-bit*.png"))[0]
    with Image.open(eight) as im:
        assert im.mode == "RGB" and np.asarray(im)[3, 3, 2] == 255
    with Image.open(sixteen) as im:
        im.load()
        assert im.size == (4, 4)  # Pillow reads 16-bit colour PNGs (as 8-bit RGB)
    raw = sixteen.read_bytes()
    assert raw[24] == 16 and raw[25] == 2  # IHDR: bit depth 16, colour type RGB
    start = raw.index(b"IDAT")
    rows = zlib.decompress(raw[start + 4:start + 4 + int.from_bytes(raw[start - 4:start], "big")])
    levels = np.frombuffer(rows, dtype=">u2", count=(len(rows) - 4) // 2, offset=1)  # after row 0's filter byte
    assert levels[0] == 0 and levels[11] == int(11 / 47 * 65535)  # truncated, as ComfyUI's saves
    assert json.loads(embedded_texts(sixteen)[PNG_WORKFLOW_KEY]) == {"nodes": []}
    assert json.loads(embedded_texts(eight)[PNG_WORKFLOW_KEY]) == {"nodes": []}


def test_save_text_formats_and_passes_the_text_on(tmp_path):
    path, text = SaveText().run(ctx(tmp_path), '{"a":1}', "notes", "json")
    assert text == '{"a":1}' and Path(path).suffix == ".json" and Path(path).read_text() == '{\n  "a": 1\n}'
    path, _ = SaveText().run(ctx(tmp_path), "plain", "notes", "txt")
    assert Path(path).read_text() == "plain"


def test_manual_sigmas_parse_and_refuse():
    assert ManualSigmas().run(ctx(), "0.909375, 0.725, 0.421875, 0.0")[0].values.tolist() == pytest.approx(
        [0.909375, 0.725, 0.421875, 0.0])
    assert parse_sigmas("1e-1\n0") == [0.1, 0.0]
    for bad in ("", "1, two", "1, -0.5", "nan"):
        with pytest.raises(ValueError):
            parse_sigmas(bad)
    with pytest.raises(ValueError):
        ManualSigmas.input("sigmas").check_value("1, x")
