"""Size nodes: Get Image Size, Scale to Total Pixels / Max Dimension, Resize Image/Mask."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.image.sizes import (
    GetImageSize,
    ImageScaleToMaxDimension,
    ImageScaleToTotalPixels,
    ResizeImageMask,
)

CTX = RunContext()


def image(b: int = 1, h: int = 32, w: int = 64) -> torch.Tensor:
    return torch.rand(b, h, w, 3, generator=torch.Generator().manual_seed(0))


def resize(picture, **values):
    params = ResizeImageMask.default_params() | {"match": None} | values
    return ResizeImageMask().run(CTX, picture, **params)[0]


def test_get_image_size_of_images_and_masks():
    assert GetImageSize().run(CTX, image(2)) == (64, 32, 2)
    assert GetImageSize().run(CTX, torch.zeros(3, 8, 16)) == (16, 8, 3)
    with pytest.raises(NodeError):
        GetImageSize().run(CTX, "not a picture")


def test_scale_to_total_pixels_keeps_the_ratio_and_rounds_to_steps():
    out = ImageScaleToTotalPixels().run(CTX, image(), "bilinear", 0.01, 8)[0]
    # 0.01 MP = 10486 px; 64x32 scaled by sqrt(10486 / 2048) = 2.263 -> 144.8 x 72.4 -> multiples of 8
    assert tuple(out.shape) == (1, 72, 144, 3)
    assert tuple(ImageScaleToTotalPixels().run(CTX, image(), "area", 0.01, 1)[0].shape) == (1, 72, 145, 3)


def test_scale_to_max_dimension():
    assert tuple(ImageScaleToMaxDimension().run(CTX, image(), "area", 16)[0].shape) == (1, 8, 16, 3)
    assert tuple(ImageScaleToMaxDimension().run(CTX, image(h=64, w=32), "lanczos", 16)[0].shape) == (1, 16, 8, 3)


@pytest.mark.parametrize(("values", "shape"), [
    ({"resize_type": "scale by multiplier", "multiplier": 0.5}, (16, 32)),
    ({"resize_type": "scale dimensions", "width": 16, "height": 16}, (16, 16)),
    ({"resize_type": "scale dimensions", "width": 16, "height": 0}, (8, 16)),
    ({"resize_type": "scale longer dimension", "longer_size": 32}, (16, 32)),
    ({"resize_type": "scale shorter dimension", "shorter_size": 16}, (16, 32)),
    ({"resize_type": "scale width", "width": 128}, (64, 128)),
    ({"resize_type": "scale height", "height": 8}, (8, 16)),
    ({"resize_type": "scale total pixels", "megapixels": 0.001953125}, (32, 64)),  # 2048 px: unchanged
    ({"resize_type": "scale to multiple", "multiple": 24}, (24, 48)),
])
def test_resize_image_mask_rules(values, shape):
    assert tuple(resize(image(), **values).shape) == (1, *shape, 3)
    assert tuple(resize(torch.ones(2, 32, 64), **values).shape) == (2, *shape)  # masks too


def test_resize_center_crop_keeps_the_middle_and_match_takes_another_size():
    picture = torch.zeros(1, 32, 64, 3)
    picture[:, :, 16:48] = 1.0  # a white middle square
    out = resize(picture, resize_type="scale dimensions", width=32, height=32, crop="center",
                 scale_method="nearest-exact")
    assert out.min() == 1.0  # only the middle survives the crop
    matched = resize(image(), resize_type="match size", match=torch.zeros(1, 10, 20))
    assert tuple(matched.shape) == (1, 10, 20, 3)


def test_resize_refuses_an_empty_or_huge_result_naming_the_field():
    with pytest.raises(NodeError) as info:
        resize(image(h=1, w=4096), resize_type="scale by multiplier", multiplier=8.0)  # 32768 pixels wide
    assert info.value.field == "multiplier"
    with pytest.raises(NodeError):
        resize(image(), resize_type="match size")  # nothing to match
