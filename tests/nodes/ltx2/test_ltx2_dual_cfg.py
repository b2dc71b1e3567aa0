"""LTXV Dual CFG Guider: a guidance scale for the video and another for its soundtrack.

Diffusers convention: LTX2Pipeline with guidance_scale 3 and audio_guidance_scale 6 (nothing else guiding),
within the rounding the existing LTX-2 parity tests state (the pipeline mixes x0 by deltas, NodeFlow
velocities): frames 1e-5, waveform 1e-6. The sound with one scale (3) is far from it, so the test sees the
second scale. ComfyUI convention: equal scales give CFG Guider's output bit for bit (1 and 1: one call);
unequal ones change the video only through the sound it attends to.
"""

from __future__ import annotations

import pytest
import torch
from ltx2_graphs import ltx2_dual_cfg, pipeline_run

from nodeflow.engine import Executor

#: ComfyUI-style levels for the comfyui convention runs (the LTX-2.5 templates' last pass).
SIGMAS = "0.85, 0.725, 0.4219, 0.0"


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _run(executor, tmp_path, folder, audio_file, **options):
    graph, ids = ltx2_dual_cfg(folder, audio_file, negative="a blue square", seed=5, **options)
    result = executor.run(graph, output_dir=tmp_path, targets=[ids["out"], ids["sound"]])
    assert result.ok, result.errors
    return result.values[ids["decode"]]["image"], result.values[ids["sound"]]["audio"]["waveform"]


def test_dual_cfg_matches_ltx2_pipeline_video_and_audio_scales(tiny_ltx2, executor, tmp_path):
    folder, audio_file = tiny_ltx2
    frames, sound = _run(executor, tmp_path, folder, audio_file, video_cfg=3.0, audio_cfg=6.0)
    theirs_frames, theirs_sound = pipeline_run(folder, negative="a blue square", cfg=3.0, audio_cfg=6.0, seed=5)
    torch.testing.assert_close(frames, theirs_frames.float(), atol=1e-5, rtol=0)
    torch.testing.assert_close(sound, theirs_sound.float(), atol=1e-6, rtol=0)
    _, one_scale = pipeline_run(folder, negative="a blue square", cfg=3.0, seed=5)
    assert (one_scale.float() - sound).abs().max() > 1e-4


def test_dual_cfg_in_the_comfyui_convention(tiny_ltx2, executor, tmp_path):
    folder, audio_file = tiny_ltx2

    def run(video_cfg, audio_cfg, dual=True):
        return _run(executor, tmp_path, folder, audio_file, video_cfg=video_cfg, audio_cfg=audio_cfg, dual=dual,
                    sigmas=SIGMAS)

    for scale in (1.0, 2.0):
        dual, single = run(scale, scale), run(scale, scale, dual=False)
        for ours, theirs in zip(dual, single, strict=True):
            torch.testing.assert_close(ours, theirs, atol=0, rtol=0)
    frames, sound = run(2.0, 5.0)
    single_frames, single_sound = run(2.0, 2.0, dual=False)
    assert (sound - single_sound).abs().max() > 1e-4
    assert not torch.equal(frames, single_frames)


def test_scales_spread_over_the_joined_streams():
    from nodes.latent._streams import Joint, guidance_scale

    joint = Joint(((1, 2, 1, 2, 2), (1, 3, 2, 1)))
    scale = guidance_scale(4.0, (2.0, 4.0), joint, "cpu")
    assert scale.shape == (1, 8 + 6)
    video, audio = joint.split(scale)
    assert bool((video == 2.0).all()) and bool((audio == 4.0).all())
    assert guidance_scale(4.0, (2.0, 4.0), None, "cpu") == 2.0  # a plain latent: the video's scale
    assert guidance_scale(3.0, (), joint, "cpu") == 3.0
