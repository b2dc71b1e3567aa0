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


def _with_clip_vision(graph, ids, tower_file, start_id, crop="center", end_id=None):
    """CLIP vision of the start picture into Wan Image To Video's clip_vision_output, or with `end_id` of
    both pictures into First-Last Frame's clip_vision_start_image / clip_vision_end_image."""
    ids["clip_vision"] = add(graph, "vision.load_clip_vision", clip_name=str(tower_file))
    pictures = {"start": start_id} if end_id is None else {"start": start_id, "end": end_id}
    for which, picture in pictures.items():
        ids[f"seen {which}"] = add(graph, "vision.clip_vision_encode", {
            "clip_vision": (ids["clip_vision"], "clip_vision"), "image": (picture, "image")}, crop=crop)
        socket = "clip_vision_output" if end_id is None else f"clip_vision_{which}_image"
        graph.connect(ids[f"seen {which}"], "clip_vision_output", ids["i2v"], socket)


class ComfyReading:
    """An image_processor for the pipeline that reads the picture as CLIP Vision Encode does ('center'),
    optionally negated (other tokens for the same picture)."""

    def __init__(self, sign: float = 1.0) -> None:
        self.sign = sign

    def __call__(self, images, return_tensors="pt"):
        from transformers import BatchFeature

        from nodes.vision._clip_vision import MEAN, STD, pixels

        batch = images if isinstance(images, list) else [images]
        pictures = torch.stack([torch.from_numpy(np.asarray(p.convert("RGB"), dtype=np.float32) / 255) for p in batch])
        return BatchFeature({"pixel_values": self.sign * pixels(pictures, 28, MEAN, STD, crop=True)})


def _reference(folder, start, negative, cfg, batch, reading, end=None):
    import diffusers
    from PIL import Image

    extra = {} if end is None else {"last_image": Image.open(end).convert("RGB")}

    pipe = reference_pipe("WanImageToVideoPipeline", folder)
    pipe = diffusers.WanImageToVideoPipeline(**{**pipe.components, "image_processor": reading})
    pipe.set_progress_bar_config(disable=True)
    frames = pipe(Image.open(start).convert("RGB"), **prompt_embeds(pipe, "a red circle", negative, batch),
                  height=32, width=32, num_frames=5, num_inference_steps=2, guidance_scale=cfg,
                  generator=torch.Generator("cpu").manual_seed(3), output_type="np", **extra).frames
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


@pytest.fixture(scope="module")
def tiny_flf2v(tmp_path_factory, torch_threads):
    from tiny_wan21 import build_wan21

    return build_wan21(tmp_path_factory.mktemp("tiny_flf2v"), seed=7, first_last=True)


@pytest.fixture(scope="module")
def end_png(source_png, tmp_path_factory):
    from PIL import Image

    path = tmp_path_factory.mktemp("flf_end") / "end.png"
    Image.open(source_png[0]).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(path)
    return path


def test_wan21_first_last_frame_matches_the_pipeline(tiny_flf2v, source_png, end_png, tmp_path):
    """Wan 2.1 FLF2V: both pictures through CLIP vision, their tokens joined start first, placed by the
    image embedder's pos_embed: the pipeline's last_image run."""
    folder, tower_file = tiny_flf2v
    graph, ids = wan_image2video(folder, source_png[0], end=end_png, negative="a blue circle", cfg=4.0, seed=3)
    _with_clip_vision(graph, ids, tower_file, ids["start"], end_id=ids["end"])
    ours = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    theirs = _reference(folder, source_png[0], "a blue circle", 4.0, 1, ComfyReading(), end=end_png)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
    # one picture's tokens are not enough for this transformer
    graph.disconnect(ids["i2v"], "clip_vision_end_image")
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "one")
    assert not result.ok and "clip_vision_end_image" in " ".join(result.errors.values()), result.errors


def test_wan21_without_clip_vision_is_one_line(tiny_wan21, source_png, tmp_path):
    folder, _ = tiny_wan21
    graph, ids = wan_image2video(folder, source_png[0], seed=3)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path)
    assert not result.ok
    assert "clip_vision_output" in " ".join(result.errors.values()), result.errors
