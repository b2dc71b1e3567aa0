"""Flux.2 graphs give the pipelines' pixels (tiny random weights, CPU): Klein (Flux2KleinPipeline) text to
image with and without guidance and an edit with a reference picture (ReferenceLatent, the pipeline's
`image`); dev (Flux2Pipeline) with its embedded guidance."""

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
def test_txt2img_matches_flux2_klein_pipeline(tiny_klein, executor, tmp_path, cfg):
    graph, ids = flux_txt2img(tiny_klein, guidance=None, negative="" if cfg > 1 else None, cfg=cfg, steps=2, seed=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("Flux2KleinPipeline", tiny_klein)
    theirs = as_uint8(pipe(prompt="a red circle", height=32, width=32, num_inference_steps=2, guidance_scale=cfg,
                           generator=torch.Generator("cpu").manual_seed(3)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_reference_edit_matches_flux2_klein_pipeline(tiny_klein, source_png, executor, tmp_path):
    from PIL import Image

    source = tmp_path / "source64.png"  # the pipeline's image processor takes pictures of 64 pixels or more
    Image.open(source_png[0]).resize((64, 64), Image.BICUBIC).save(source)
    graph, ids = flux_txt2img(tiny_klein, guidance=None, reference=source, steps=2, seed=4, prompt="a blue circle")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("Flux2KleinPipeline", tiny_klein)
    theirs = as_uint8(pipe(image=[Image.open(source)], prompt="a blue circle", height=32, width=32,
                           num_inference_steps=2, guidance_scale=1.0,
                           generator=torch.Generator("cpu").manual_seed(4)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_dev_txt2img_matches_flux2_pipeline(tiny_flux2_dev, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_flux2_dev, guidance=3.5, steps=2, seed=5, prompt="a red [IMG]circle")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("Flux2Pipeline", tiny_flux2_dev)
    theirs = as_uint8(pipe(prompt="a red [IMG]circle", height=32, width=32, num_inference_steps=2, guidance_scale=3.5,
                           generator=torch.Generator("cpu").manual_seed(5)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
