"""Z-Image graphs give ZImagePipeline's pixels (tiny random weights, CPU).

Without guidance the loop is the pipeline's, byte for byte. With guidance NodeFlow mixes the two
outputs as neg + cfg * (pos - neg) where the pipeline writes pos + g * (pos - neg) with g = cfg - 1:
the same number in other float roundings, so pixels agree within 1 of 255.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful, reference_pipe
from graphs import pixels, run

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


@pytest.mark.parametrize("cfg", [1.0, 4.0])
def test_txt2img_matches_z_image_pipeline(tiny_z_image, executor, tmp_path, cfg):
    graph, ids = flux_txt2img(tiny_z_image, guidance=None, negative="a green square" if cfg > 1 else None, cfg=cfg,
                              steps=3, seed=5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("ZImagePipeline", tiny_z_image)
    theirs = as_uint8(pipe("a red circle", negative_prompt="a green square", height=32, width=32,
                           num_inference_steps=3, guidance_scale=cfg - 1,
                           generator=torch.Generator("cpu").manual_seed(5)).images)
    meaningful(theirs)
    if cfg == 1.0:
        np.testing.assert_array_equal(ours, theirs)
    else:
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1


def test_img2img_matches_z_image_img2img_pipeline(tiny_z_image, source_png, executor, tmp_path):
    from diffusers import ZImageImg2ImgPipeline
    from PIL import Image

    source, _ = source_png
    graph, ids = flux_txt2img(tiny_z_image, guidance=None, image=source, denoise=0.6, steps=5, seed=2,
                              prompt="a blue circle")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = ZImageImg2ImgPipeline.from_pipe(reference_pipe("ZImagePipeline", tiny_z_image))
    theirs = as_uint8(pipe("a blue circle", image=Image.open(source), strength=0.6, height=32, width=32,
                           num_inference_steps=5, guidance_scale=0.0,
                           generator=torch.Generator("cpu").manual_seed(2)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
