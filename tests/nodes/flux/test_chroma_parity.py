"""Chroma graphs give ChromaPipeline's pixels, byte for byte (tiny random weights, CPU)."""

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


def test_txt2img_with_cfg_matches_chroma_pipeline(tiny_chroma, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_chroma, guidance=None, negative="blue", cfg=4.0, steps=3, seed=7)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("ChromaPipeline", tiny_chroma)
    theirs = as_uint8(pipe("a red circle", negative_prompt="blue", height=32, width=32, num_inference_steps=3,
                           guidance_scale=4.0, generator=torch.Generator("cpu").manual_seed(7)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
