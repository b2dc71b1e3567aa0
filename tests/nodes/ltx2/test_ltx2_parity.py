"""LTX-2 graphs give diffusers' LTX2Pipeline's video and soundtrack (tiny random weights, CPU): text-to-video
with and without classifier-free guidance, a batch of two. The pipeline guides in x0 space and converts its
velocities to x0 and back even without guidance, so the floats differ from NodeFlow's velocity-space mix by
rounding only: the frames agree within 1e-5 (measured 3e-6), the waveforms within 1e-6 (measured 1e-7)."""

from __future__ import annotations

import pytest
import torch
from ltx2_graphs import ltx2_txt2video, pipeline_run

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


@pytest.mark.parametrize(("cfg", "batch"), [(1.0, 1), (3.0, 2)])
def test_txt2video_matches_ltx2_pipeline(tiny_ltx2, executor, tmp_path, cfg, batch):
    folder, audio_file = tiny_ltx2
    negative = "a blue square" if cfg > 1 else ""
    graph, ids = ltx2_txt2video(folder, audio_file, negative=negative, cfg=cfg, batch=batch, seed=3)
    result = executor.run(graph, output_dir=tmp_path, targets=[ids["out"], ids["sound"]])
    assert result.ok, result.errors
    frames, sound = result.values[ids["decode"]]["image"], result.values[ids["sound"]]["audio"]
    theirs_frames, theirs_sound = pipeline_run(folder, negative=negative, cfg=cfg, batch=batch, seed=3)
    assert frames.shape == (9 * batch, 64, 64, 3)  # frames on the batch axis, video after video
    assert theirs_frames.std() > 0.02 and theirs_sound.std() > 1e-3  # detail, not flat output
    torch.testing.assert_close(frames, theirs_frames.float(), atol=1e-5, rtol=0)
    torch.testing.assert_close(sound["waveform"], theirs_sound.float(), atol=1e-6, rtol=0)


def test_ltx23_txt2video_matches_ltx2_pipeline(tiny_ltx23, executor, tmp_path):
    """LTX-2.3's transformer and text side (per-stream projections, gated attention, prompt modulation)."""
    folder, audio_file = tiny_ltx23
    graph, ids = ltx2_txt2video(folder, audio_file, negative="a blue square", cfg=3.0, seed=4)
    result = executor.run(graph, output_dir=tmp_path, targets=[ids["out"], ids["sound"]])
    assert result.ok, result.errors
    frames, sound = result.values[ids["decode"]]["image"], result.values[ids["sound"]]["audio"]
    theirs_frames, theirs_sound = pipeline_run(folder, negative="a blue square", cfg=3.0, seed=4)
    assert theirs_frames.std() > 0.02
    torch.testing.assert_close(frames, theirs_frames.float(), atol=1e-5, rtol=0)
    torch.testing.assert_close(sound["waveform"], theirs_sound.float(), atol=1e-6, rtol=0)
