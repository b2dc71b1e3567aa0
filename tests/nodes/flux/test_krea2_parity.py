"""Krea 2 graphs give Krea2Pipeline's pixels (tiny random weights, CPU), byte for byte: text to image
without and with guidance (NodeFlow's cfg is the pipeline's guidance_scale + 1, mixed as the pipeline
mixes it), and the Turbo's fixed shift read from its folder's model_index.json."""

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


@pytest.mark.parametrize("cfg", [1.0, 3.5])
def test_txt2img_matches_krea2_pipeline(tiny_krea2, executor, tmp_path, cfg):
    graph, ids = flux_txt2img(tiny_krea2, guidance=None, negative="a green square" if cfg > 1 else None, cfg=cfg,
                              steps=2, seed=5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("Krea2Pipeline", tiny_krea2)
    theirs = as_uint8(pipe("a red circle", negative_prompt="a green square", height=32, width=32,
                           num_inference_steps=2, guidance_scale=cfg - 1,
                           generator=torch.Generator("cpu").manual_seed(5)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_turbo_matches_krea2_pipeline_with_its_fixed_shift(tiny_krea2_turbo, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_krea2_turbo, guidance=None, steps=2, seed=7, prompt="a blue circle")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("Krea2Pipeline", tiny_krea2_turbo)
    assert pipe.config.is_distilled
    theirs = as_uint8(pipe("a blue circle", height=32, width=32, num_inference_steps=2, guidance_scale=0.0,
                           generator=torch.Generator("cpu").manual_seed(7)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
