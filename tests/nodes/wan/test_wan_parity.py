"""Wan graphs give diffusers' Wan pipelines' frames (tiny random weights, CPU, tolerance 0): text-to-video
with and without classifier-free guidance, a batch of two videos."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import pixels, run
from wan_graphs import frames_uint8, meaningful, reference_pipe, wan_txt2video

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


@pytest.mark.parametrize(("cfg", "batch"), [(1.0, 1), (4.0, 2)])
def test_txt2video_matches_wan_pipeline(tiny_wan, executor, tmp_path, cfg, batch):
    negative = "a blue circle" if cfg > 1 else None
    graph, ids = wan_txt2video(tiny_wan, negative=negative, cfg=cfg, batch=batch, seed=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("WanPipeline", tiny_wan)
    theirs = frames_uint8(pipe("a red circle", negative_prompt=negative, height=32, width=32, num_frames=5,
                               num_inference_steps=2, guidance_scale=cfg, num_videos_per_prompt=batch,
                               generator=torch.Generator("cpu").manual_seed(3), output_type="np").frames)
    assert ours.shape == (5 * batch, 32, 32, 3)  # frames on the batch axis, video after video
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
