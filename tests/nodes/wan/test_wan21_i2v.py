"""Wan 2.1 image-to-video (a transformer with an image embedder) reads the start picture through CLIP
vision: Load CLIP Vision -> CLIP Vision Encode -> Wan Image To Video's clip_vision_output gives
WanImageToVideoPipeline's frames at tolerance 0 when the pipeline's image_processor reads the picture as
ComfyUI does (its encode_image then runs the same tower on the same pixels: the maths is the same). The
pipeline's own image_processor (PIL's bicubic resize) reads pictures within 2/255 of ComfyUI's way, which
the node follows (tests/nodes/vision). Without the CLIP vision output such a transformer is one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import add, pixels, run
from wan_graphs import frames_uint8, meaningful, prompt_embeds, reference_pipe, wan_image2video

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def tiny_wan21(tmp_path_factory, torch_threads):
    from tiny_wan21 import build_wan21

    return build_wan21(tmp_path_factory.mktemp("tiny_wan21"), seed=4)


def _with_clip_vision(graph, ids, tower_file, start_id, crop="center"):
    ids["clip_vision"] = add(graph, "vision.load_clip_vision", clip_name=str(tower_file))
    ids["seen"] = add(graph, "vision.clip_vision_encode", {"clip_vision": (ids["clip_vision"], "clip_vision"),
                                                           "image": (start_id, "image")}, crop=crop)
    graph.connect(ids["seen"], "clip_vision_output", ids["i2v"], "clip_vision_output")


class ComfyReading:
    """An image_processor for the pipeline that reads the picture as CLIP Vision Encode does ('center'),
    optionally negated (other tokens for the same picture)."""

    def __init__(self, sign: float = 1.0) -> None:
        self.sign = sign

    def __call__(self, images, return_tensors="pt"):
        from transformers import BatchFeature

        from nodes.vision._clip_vision import MEAN, STD, pixels

        picture = torch.from_numpy(np.asarray(images.convert("RGB"), dtype=np.float32) / 255)[None]
        return BatchFeature({"pixel_values": self.sign * pixels(picture, 28, MEAN, STD, crop=True)})


def _reference(folder, start, negative, cfg, batch, reading):
    import diffusers
    from PIL import Image

    pipe = reference_pipe("WanImageToVideoPipeline", folder)
    pipe = diffusers.WanImageToVideoPipeline(**{**pipe.components, "image_processor": reading})
    pipe.set_progress_bar_config(disable=True)
    frames = pipe(Image.open(start).convert("RGB"), **prompt_embeds(pipe, "a red circle", negative, batch),
                  height=32, width=32, num_frames=5, num_inference_steps=2, guidance_scale=cfg,
                  generator=torch.Generator("cpu").manual_seed(3), output_type="np").frames
    return frames_uint8(frames)


@pytest.mark.parametrize(("cfg", "batch"), [(1.0, 1), (4.0, 2)])
def test_wan21_image_to_video_matches_the_pipeline(tiny_wan21, source_png, tmp_path, cfg, batch):
    folder, tower_file = tiny_wan21
    negative = "a blue circle" if cfg > 1 else None
    graph, ids = wan_image2video(folder, source_png[0], negative=negative, cfg=cfg, batch=batch, seed=3)
    _with_clip_vision(graph, ids, tower_file, ids["start"])
    ours = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    theirs = _reference(folder, source_png[0], negative, cfg, batch, ComfyReading())
    assert ours.shape == (5 * batch, 32, 32, 3)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
    other = _reference(folder, source_png[0], negative, cfg, batch, ComfyReading(-1.0))
    assert np.abs(other.astype(int) - theirs).max() > 4  # the image tokens make a difference


def test_wan21_without_clip_vision_is_one_line(tiny_wan21, source_png, tmp_path):
    folder, _ = tiny_wan21
    graph, ids = wan_image2video(folder, source_png[0], seed=3)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path)
    assert not result.ok
    assert "clip_vision_output" in " ".join(result.errors.values()), result.errors
