"""Latent Cut, Latent Cut To Batch, Latent Concat and Replace Video Latent Frames on small numbered
latents: ComfyUI's index and amount rules, axes counted from the end, one-line refusals, and the
templates' saved values imported fully."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import default_registry
from nodeflow.core.context import RunContext
from nodeflow.core.errors import NodeError
from nodeflow.interop.comfyui import import_data
from nodes.latent.cut import LatentConcat, LatentCut, LatentCutToBatch, ReplaceVideoLatentFrames


def video(batch: int = 1, frames: int = 5, h: int = 2, w: int = 3) -> dict:
    """A video latent whose values say their frame index."""
    samples = torch.arange(frames, dtype=torch.float32)[None, None, :, None, None].expand(batch, 4, frames, h, w)
    return {"samples": samples.contiguous(), "downscale": 8, "latent_dist": object()}


def frames_of(latent: dict) -> list[int]:
    return [int(v) for v in latent["samples"][0, 0, :, 0, 0]]


@pytest.mark.parametrize("index, amount, frames", [
    (1, 2, [1, 2]), (3, 16384, [3, 4]), (9, 1, [4]), (-2, 1, [3]), (-2, 5, [3, 4]), (-9, 2, [0, 1]),
])
def test_latent_cut_along_frames_follows_comfyuis_clamping(index, amount, frames):
    (out,) = LatentCut().run(RunContext(), video(), "t", index, amount)
    assert frames_of(out) == frames and out["downscale"] == 8 and "latent_dist" not in out


def test_latent_cut_along_width_and_height():
    picture = {"samples": torch.arange(24, dtype=torch.float32).reshape(1, 1, 4, 6)}
    assert LatentCut().run(RunContext(), picture, "x", 4, 3)[0]["samples"][0, 0, 0].tolist() == [4.0, 5.0]
    assert LatentCut().run(RunContext(), picture, "y", -1, 1)[0]["samples"].shape == (1, 1, 1, 6)


@pytest.mark.parametrize("latent, dim, field", [
    ({"samples": torch.zeros(1, 4, 8, 8)}, "t", "dim"),  # no frames: ComfyUI would cut the channels
    ({"samples": torch.zeros(1, 4, 8, 8), "empty_size": (64, 64)}, "x", "samples"),  # blank, refitted later
])
def test_latent_cut_refusals(latent, dim, field):
    with pytest.raises(NodeError) as caught:
        LatentCut().run(RunContext(), latent, dim, 0, 1)
    assert caught.value.field == field and "\n" not in str(caught.value)


def test_latent_cut_to_batch_stacks_the_pieces_and_drops_a_remainder():
    (out,) = LatentCutToBatch().run(RunContext(), video(batch=2, frames=5), "t", 2)
    assert out["samples"].shape == (4, 4, 2, 2, 3)
    assert [out["samples"][b, 0, :, 0, 0].tolist() for b in range(4)] == [[0, 1], [2, 3], [0, 1], [2, 3]]
    assert LatentCutToBatch().run(RunContext(), video(frames=3), "t", 8)[0]["samples"].shape[0] == 1
    picture = {"samples": torch.zeros(1, 4, 8, 8)}
    assert LatentCutToBatch().run(RunContext(), picture, "t", 1)[0] is picture  # one frame: unchanged
    assert LatentCutToBatch().run(RunContext(), picture, "x", 4)[0]["samples"].shape == (2, 4, 8, 4)


def test_latent_concat_joins_either_side_and_repeats_the_batch():
    (after,) = LatentConcat().run(RunContext(), video(batch=2, frames=2), video(frames=3), "t")
    assert after["samples"].shape == (2, 4, 5, 2, 3) and frames_of(after) == [0, 1, 0, 1, 2]
    (before,) = LatentConcat().run(RunContext(), video(frames=2), video(frames=3), "-t")
    assert frames_of(before) == [0, 1, 2, 0, 1]
    with pytest.raises(NodeError) as caught:
        LatentConcat().run(RunContext(), video(h=2), video(h=3), "t")
    assert caught.value.field == "samples2" and "\n" not in str(caught.value)


def test_replace_video_latent_frames():
    destination = {"samples": torch.zeros(1, 4, 6, 2, 3)}
    source = {"samples": torch.ones(1, 4, 2, 2, 3), "noise_mask": "kept"}
    (out,) = ReplaceVideoLatentFrames().run(RunContext(), destination, -2, source)
    assert frames_of({"samples": out["samples"]}) == [0, 0, 0, 0, 1, 1] and out["noise_mask"] == "kept"
    assert ReplaceVideoLatentFrames().run(RunContext(), destination, 0)[0] is destination
    with pytest.raises(NodeError) as caught:
        ReplaceVideoLatentFrames().run(RunContext(), destination, 5, source)
    assert caught.value.field == "index" and "\n" not in str(caught.value)


@pytest.mark.parametrize("class_type, widgets, node_type, params", [
    ("LatentCut", ["t", 1, 16384], "latent.cut", {"dim": "t", "index": 1, "amount": 16384}),
    ("LatentCutToBatch", ["t", 1], "latent.cut_to_batch", {"dim": "t", "slice_size": 1}),
    ("LatentConcat", ["t"], "latent.concat", {"dim": "t"}),
    ("ReplaceVideoLatentFrames", [0], "latent.replace_video_frames", {"index": 0}),
])
def test_the_templates_saved_values_map_fully(class_type, widgets, node_type, params):
    node = {"id": 1, "type": class_type, "mode": 0, "widgets_values": widgets, "inputs": [], "outputs": []}
    graph, report = import_data({"version": 0.4, "last_node_id": 1, "last_link_id": 0, "nodes": [node],
                                 "links": []}, default_registry())
    assert report.fully_mapped, report.lines()
    assert (graph.nodes["1"].type, graph.nodes["1"].params) == (node_type, params)
