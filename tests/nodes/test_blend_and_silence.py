"""Image Blend (ComfyUI's layer modes on hand-picked values, image2 fitted to image1) and Empty Audio
(silence of the asked length), with their ComfyUI defaults and saved template values."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import default_registry
from nodeflow.core.context import RunContext
from nodeflow.core.errors import NodeError
from nodeflow.interop.comfyui import import_data
from nodes.audio.audio import EmptyAudio
from nodes.image.compose import ImageBlend

A, B = 0.2, 0.6  # image1 and image2 everywhere


@pytest.mark.parametrize("mode, blended", [
    ("normal", B), ("multiply", A * B), ("screen", 1 - (1 - A) * (1 - B)), ("overlay", 2 * A * B),
    ("soft_light", A + (2 * B - 1) * (((16 * A - 12) * A + 4) * A - A)), ("difference", A - B),
])
def test_blend_modes_on_flat_pictures(mode, blended):
    (out,) = ImageBlend().run(RunContext(), torch.full((1, 4, 4, 3), A), torch.full((1, 4, 4, 3), B), 1.0, mode)
    assert torch.allclose(out, torch.full_like(out, max(blended, 0.0)), atol=1e-6)  # the result is cut at 0
    (half,) = ImageBlend().run(RunContext(), torch.full((1, 4, 4, 3), A), torch.full((1, 4, 4, 3), B), 0.5, mode)
    assert torch.allclose(half, torch.full_like(half, max(0.5 * A + 0.5 * blended, 0.0)), atol=1e-6)


def test_blend_fits_image2_to_image1():
    image1 = torch.full((2, 8, 8, 4), A)  # with alpha
    (out,) = ImageBlend().run(RunContext(), image1, torch.full((1, 4, 6, 3), B), 1.0, "normal")
    assert out.shape == (2, 8, 8, 4)
    assert torch.allclose(out, torch.cat([torch.full((2, 8, 8, 3), B), torch.ones(2, 8, 8, 1)], -1), atol=1e-4)
    assert [ImageBlend.input(n).default for n in ("blend_factor", "blend_mode")] == [0.5, "normal"]
    with pytest.raises(NodeError) as caught:
        ImageBlend().run(RunContext(), torch.zeros(2, 4, 4, 3), torch.zeros(3, 4, 4, 3), 0.5, "normal")
    assert caught.value.field == "image2" and "\n" not in str(caught.value)


def test_empty_audio_is_silence_of_the_asked_length():
    (audio,) = EmptyAudio().run(RunContext(), 0.5, 8000, 1)
    assert audio["sample_rate"] == 8000 and audio["waveform"].shape == (1, 1, 4000)
    assert not audio["waveform"].any()
    assert [EmptyAudio.input(n).default for n in ("duration", "sample_rate", "channels")] == [60.0, 44100, 2]
    with pytest.raises(NodeError) as caught:
        EmptyAudio().run(RunContext(), 1e9, 8000, 1)
    assert caught.value.field == "duration"


@pytest.mark.parametrize("class_type, widgets, node_type, params", [
    ("ImageBlend", [0.5, "normal"], "image.blend", {"blend_factor": 0.5, "blend_mode": "normal"}),
    ("EmptyAudio", [60, 44100, 2], "audio.empty", {"duration": 60.0, "sample_rate": 44100, "channels": 2}),
])
def test_the_templates_saved_values_map_fully(class_type, widgets, node_type, params):
    node = {"id": 1, "type": class_type, "mode": 0, "widgets_values": widgets, "inputs": [], "outputs": []}
    graph, report = import_data({"version": 0.4, "last_node_id": 1, "last_link_id": 0, "nodes": [node],
                                 "links": []}, default_registry())
    assert report.fully_mapped, report.lines()
    assert (graph.nodes["1"].type, graph.nodes["1"].params) == (node_type, params)
