"""Latent batch/layout, image editing and mask editing nodes: exact values on small hand-made tensors."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext

CTX = RunContext()


def _latent(values, downscale=8):
    return {"samples": torch.as_tensor(values, dtype=torch.float32), "downscale": downscale}


# ------------------------------------------------------------------------------------- latents


def test_latent_batch_repeat_and_pick():
    from nodes.latent.batch import LatentBatch, LatentFromBatch, RepeatLatentBatch

    a = _latent(torch.zeros(1, 4, 2, 2))
    b = _latent(torch.ones(2, 4, 2, 2) * torch.tensor([1.0, 2.0])[:, None, None, None])
    (joined,) = LatentBatch().run(CTX, a, b)
    assert joined["samples"][:, 0, 0, 0].tolist() == [0.0, 1.0, 2.0]
    (repeated,) = RepeatLatentBatch().run(CTX, b, 3)
    assert repeated["samples"][:, 0, 0, 0].tolist() == [1.0, 2.0] * 3
    (picked,) = LatentFromBatch().run(CTX, repeated, 1, 2)
    assert picked["samples"][:, 0, 0, 0].tolist() == [2.0, 1.0]
    (past_end,) = LatentFromBatch().run(CTX, b, 10, 5)  # clamps to the last one
    assert past_end["samples"][:, 0, 0, 0].tolist() == [2.0]


def test_latent_batch_resizes_the_second_and_keeps_masks_in_step():
    from nodes.latent.batch import LatentBatch, RepeatLatentBatch

    a = _latent(torch.zeros(1, 4, 4, 4))
    b = _latent(torch.arange(4.0).reshape(1, 1, 2, 2).expand(1, 4, 2, 2))
    (joined,) = LatentBatch().run(CTX, a, b)
    assert joined["samples"].shape == (2, 4, 4, 4)
    assert joined["samples"][1, 0, 0, 0] == 0.0 and joined["samples"][1, 0, -1, -1] == 3.0
    masked = {**b, "noise_mask": torch.tensor([[[[0.0]]], [[[1.0]]]])}
    masked["samples"] = masked["samples"].repeat(2, 1, 1, 1)
    (repeated,) = RepeatLatentBatch().run(CTX, masked, 2)
    assert repeated["noise_mask"].flatten().tolist() == [0.0, 1.0, 0.0, 1.0]
    with pytest.raises(NodeError, match="channels"):
        LatentBatch().run(CTX, a, _latent(torch.zeros(1, 3, 4, 4)))


def test_latent_upscale_to_size_in_pixels_with_aspect_kept():
    from nodes.latent.batch import LatentUpscaleTo

    lat = _latent(torch.arange(16.0).reshape(1, 1, 4, 4), downscale=4)
    (out,) = LatentUpscaleTo().run(CTX, lat, "nearest-exact", 32, 0, "disabled")
    assert out["samples"].shape == (1, 1, 8, 8)
    assert out["samples"][0, 0, 7, 7] == 15.0 and out["samples"][0, 0, 0, 1] == 0.0
    (cropped,) = LatentUpscaleTo().run(CTX, lat, "nearest-exact", 8, 16, "center")  # 2 cols x 4 rows
    assert cropped["samples"][0, 0, :, 0].tolist() == [1.0, 5.0, 9.0, 13.0]


def test_latent_composite_pastes_at_pixel_offset_and_feathers_inner_edges():
    from nodes.latent.batch import LatentComposite

    dest = _latent(torch.zeros(1, 1, 6, 6))
    src = _latent(torch.ones(1, 1, 4, 4))
    (hard,) = LatentComposite().run(CTX, dest, src, 8, 16, 0)
    expected = torch.zeros(6, 6)
    expected[2:6, 1:5] = 1
    torch.testing.assert_close(hard["samples"][0, 0], expected)
    (soft,) = LatentComposite().run(CTX, dest, src, 8, 16, 16)  # 2 cells of feather
    row = soft["samples"][0, 0, 5]  # bottom row touches the border: no vertical fade there
    torch.testing.assert_close(row[1:5], torch.tensor([0.5, 1.0, 1.0, 0.5]))
    assert soft["samples"][0, 0, 2, 1] == 0.25  # top-left corner: faded both ways


# -------------------------------------------------------------------------------------- images


def test_image_scale_by_invert_and_crop():
    from nodes.image.ops import ImageCrop, ImageInvert, ImageScaleBy

    image = torch.arange(2 * 4 * 6 * 3, dtype=torch.float32).reshape(2, 4, 6, 3) / 144
    (big,) = ImageScaleBy().run(CTX, image, "nearest-exact", 2.0)
    assert big.shape == (2, 8, 12, 3)
    torch.testing.assert_close(big[:, ::2, ::2], image)
    (inv,) = ImageInvert().run(CTX, image)
    torch.testing.assert_close(inv + image, torch.ones_like(image))
    (crop,) = ImageCrop().run(CTX, image, 3, 2, 2, 1)
    torch.testing.assert_close(crop, image[:, 1:3, 2:5])
    (edge,) = ImageCrop().run(CTX, image, 10, 10, 99, 99)  # a corner past the edge -> last pixel
    torch.testing.assert_close(edge, image[:, 3:, 5:])


def test_image_blur_kernel_spans_minus_one_to_one_and_mirrors_edges():
    """ComfyUI's Image Blur: weights exp(-(x^2 + y^2) / 2 sigma^2) on a -1..1 grid of 2r + 1 points, normalised;
    a lone white pixel spreads into that kernel, a flat picture stays flat (mirrored edges), and a radius the
    picture cannot mirror is one line."""
    import math

    from nodes.image.ops import ImageBlur

    dot = torch.zeros(1, 9, 9, 3)
    dot[0, 4, 4] = 1.0
    (out,) = ImageBlur().run(CTX, dot, 1, 1.0)
    edge, corner = math.exp(-0.5), math.exp(-1.0)
    total = 1 + 4 * edge + 4 * corner
    torch.testing.assert_close(out[0, 3:6, 3:6, 1], torch.tensor([[corner, edge, corner], [edge, 1.0, edge],
                                                                  [corner, edge, corner]]) / total)
    assert float(out[0, :2].abs().max()) == 0.0
    (wide,) = ImageBlur().run(CTX, dot, 2, 1.0)  # 5 points over -1..1: a quarter apart
    assert float(wide[0, 4, 5, 0] / wide[0, 4, 4, 0]) == pytest.approx(math.exp(-0.25 / 2))
    flat = torch.full((2, 6, 7, 3), 0.3)
    torch.testing.assert_close(ImageBlur().run(CTX, flat, 3, 0.5)[0], flat)
    with pytest.raises(NodeError, match="a radius of 6") as caught:
        ImageBlur().run(CTX, flat, 6, 1.0)
    assert caught.value.field == "radius"


def test_pad_for_outpaint_grey_border_and_squared_feather():
    from nodes.image.ops import ImagePadForOutpaint

    image = torch.zeros(1, 8, 8, 3)
    out, mask = ImagePadForOutpaint().run(CTX, image, 4, 0, 0, 0, 4)
    assert out.shape == (1, 8, 12, 3) and mask.shape == (1, 8, 12)
    assert (out[0, :, :4] == 0.5).all() and (out[0, :, 4:] == 0).all()
    assert (mask[0, :, :4] == 1).all()
    # Inside the original: ((4 - d) / 4) ** 2 at distance d from the padded (left) side only.
    torch.testing.assert_close(mask[0, 3, 4:], torch.tensor([1.0, 0.5625, 0.25, 0.0625, 0, 0, 0, 0]))
    assert (mask[0, :, 8:] == 0).all()


def test_image_batch_resizes_the_second():
    from nodes.image.ops import ImageBatch

    a, b = torch.zeros(1, 4, 4, 3), torch.ones(2, 8, 8, 3)
    (batch,) = ImageBatch().run(CTX, a, b)
    assert batch.shape == (3, 4, 4, 3)
    assert batch[0].sum() == 0 and torch.allclose(batch[1:], torch.ones(2, 4, 4, 3))


# --------------------------------------------------------------------------------------- masks


def test_mask_to_image_and_back():
    from nodes.mask.masks import ImageToMask
    from nodes.mask.ops import MaskToImage

    mask = torch.rand(2, 3, 5)
    (image,) = MaskToImage().run(CTX, mask)
    assert image.shape == (2, 3, 5, 3)
    torch.testing.assert_close(ImageToMask().run(CTX, image, "green")[0], mask)


def test_grow_mask_square_tapered_and_shrink():
    from nodes.mask.ops import GrowMask

    dot = torch.zeros(1, 7, 7)
    dot[0, 3, 3] = 1
    (square,) = GrowMask().run(CTX, dot, 1, False)
    assert square.sum() == 9 and square[0, 2:5, 2:5].min() == 1
    (tapered,) = GrowMask().run(CTX, dot, 2, True)
    assert tapered.sum() == 13  # a diamond of radius 2
    assert tapered[0, 1, 1] == 0 and tapered[0, 3, 1] == 1
    (shrunk,) = GrowMask().run(CTX, square, -1, False)
    torch.testing.assert_close(shrunk, dot)


def test_feather_mask_linear_ramps():
    from nodes.mask.ops import FeatherMask

    (out,) = FeatherMask().run(CTX, torch.ones(1, 4, 6), 3, 0, 2, 1)
    torch.testing.assert_close(out[0, 0], torch.tensor([1 / 3, 2 / 3, 1, 1, 1, 0.5]))
    torch.testing.assert_close(out[0, 3], torch.tensor([1 / 3, 2 / 3, 1, 1, 1, 0.5]))  # bottom 1 -> x1/1
    assert out[0, 1, 2] == 1


@pytest.mark.parametrize(("operation", "expected"), [
    ("multiply", [0.36, 0.0]), ("add", [1.0, 1.0]), ("subtract", [0.0, 1.0]),
    ("and", [1.0, 0.0]), ("or", [1.0, 1.0]), ("xor", [0.0, 1.0]),
])
def test_mask_composite_operations(operation, expected):
    from nodes.mask.ops import MaskComposite

    dest = torch.tensor([[[0.6, 1.0, 0.3]]])
    src = torch.tensor([[[0.6, 0.0]]])
    (out,) = MaskComposite().run(CTX, dest, src, 0, 0, operation)
    torch.testing.assert_close(out[0, 0, :2], torch.tensor(expected))
    assert out[0, 0, 2] == pytest.approx(0.3)  # outside the source: unchanged
