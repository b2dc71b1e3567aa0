"""Wan 2.2 image-to-video graphs give WanImageToVideoPipeline's frames (tiny random weights, CPU, tolerance
0): a start picture (cfg 1, and cfg 4 with a batch of two), a start and an end picture (the pipeline's
last_image), and the high-noise / low-noise pair handing over at a step as the pipeline's boundary_ratio
does, run as two KSampler (Advanced) nodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import pixels, run
from wan_graphs import frames_uint8, meaningful, prompt_embeds, reference_pipe, wan_image2video

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


@pytest.fixture(scope="module")
def end_png(source_png, tmp_path_factory):
    """The source picture upside down: an end frame unlike the start."""
    from PIL import Image

    path = tmp_path_factory.mktemp("wan_end") / "end.png"
    Image.open(source_png[0]).transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(path)
    return path


def _reference(pipe, start, *, negative, cfg, batch, seed, steps, end=None):
    from PIL import Image

    extra = {"last_image": Image.open(end).convert("RGB")} if end is not None else {}
    frames = pipe(Image.open(start).convert("RGB"), **prompt_embeds(pipe, "a red circle", negative, batch),
                  height=32, width=32, num_frames=5, num_inference_steps=steps, guidance_scale=cfg,
                  generator=torch.Generator("cpu").manual_seed(seed),
                  output_type="np", **extra).frames
    return frames_uint8(frames)


@pytest.mark.parametrize(("cfg", "batch"), [(1.0, 1), (4.0, 2)])
def test_image_to_video_matches_the_pipeline(tiny_wan_i2v, source_png, executor, tmp_path, cfg, batch):
    negative = "a blue circle" if cfg > 1 else None
    graph, ids = wan_image2video(tiny_wan_i2v, source_png[0], negative=negative, cfg=cfg, batch=batch, seed=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _reference(reference_pipe("WanImageToVideoPipeline", tiny_wan_i2v), source_png[0], negative=negative,
                        cfg=cfg, batch=batch, seed=3, steps=2)
    assert ours.shape == (5 * batch, 32, 32, 3)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_first_last_frame_matches_the_pipeline(tiny_wan_i2v, source_png, end_png, executor, tmp_path):
    graph, ids = wan_image2video(tiny_wan_i2v, source_png[0], end=end_png, negative="a blue circle", cfg=4.0, seed=5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _reference(reference_pipe("WanImageToVideoPipeline", tiny_wan_i2v), source_png[0], end=end_png,
                        negative="a blue circle", cfg=4.0, batch=1, seed=5, steps=2)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_two_models_hand_over_as_the_pipelines_boundary(tiny_wan_i2v, tiny_wan_i2v_low, source_png, executor,
                                                        tmp_path):
    """Wan 2.2 14B's pair: the pipeline's transformer runs the steps at t >= boundary_ratio x 1000 (of 3
    steps at shift 5: t = 1000 only), transformer_2 the rest; the graph's first KSampler (Advanced) ends
    at step 1 with its leftover noise and the second continues from it on the low-noise model."""
    from diffusers import WanTransformer3DModel

    graph, ids = wan_image2video(tiny_wan_i2v, source_png[0], low=tiny_wan_i2v_low, handover=1,
                                 negative="a blue circle", cfg=4.0, seed=7, steps=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    low = WanTransformer3DModel.from_pretrained(tiny_wan_i2v_low, local_files_only=True)
    pipe = reference_pipe("WanImageToVideoPipeline", tiny_wan_i2v, transformer_2=low, boundary_ratio=0.9)
    pipe.scheduler.set_timesteps(3)
    assert float(pipe.scheduler.timesteps[0]) >= 900 > float(pipe.scheduler.timesteps[1])
    theirs = _reference(pipe, source_png[0], negative="a blue circle", cfg=4.0, batch=1, seed=7, steps=3)
    one_model = _reference(reference_pipe("WanImageToVideoPipeline", tiny_wan_i2v), source_png[0],
                           negative="a blue circle", cfg=4.0, batch=1, seed=7, steps=3)
    assert np.abs(theirs.astype(int) - one_model).max() > 8  # the second transformer made a difference
    np.testing.assert_array_equal(ours, theirs)


def test_a_split_run_on_one_model_is_the_run_in_one_piece(tiny_wan_i2v, source_png, executor, tmp_path):
    """A flow Euler step holds no state: KSampler (Advanced) [0, 2) with its leftover noise, then [2, 3)
    without adding noise, on the same transformer, gives the one-model pipeline's frames."""
    graph, ids = wan_image2video(tiny_wan_i2v, source_png[0], low=tiny_wan_i2v / "transformer", handover=2,
                                 negative="a blue circle", cfg=4.0, seed=7, steps=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _reference(reference_pipe("WanImageToVideoPipeline", tiny_wan_i2v), source_png[0],
                        negative="a blue circle", cfg=4.0, batch=1, seed=7, steps=3)
    np.testing.assert_array_equal(ours, theirs)
