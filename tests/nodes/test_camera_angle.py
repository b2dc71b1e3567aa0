"""Camera Angle Prompt (ComfyUI's CameraAngle): the multi-angle LoRA's shot words for an orbit around
the subject, its bounds, and its preview-only image never being evaluated."""

from __future__ import annotations

import pytest
from graphs import add, new_graph

from nodeflow.core import RunContext
from nodeflow.core.errors import GraphEditError
from nodeflow.engine import Executor
from nodes.basic.camera import CameraAngle


def describe(**values) -> str:
    params = CameraAngle.default_params() | values
    return CameraAngle().run(RunContext(), image=None, **params)[0]


@pytest.mark.parametrize(("horizontal", "vertical", "zoom", "words"), [
    (0, 0, 5.0, "front view eye-level shot medium shot"),  # the defaults
    (333, 17, 5.0, "front-left quarter view elevated shot medium shot"),  # the official template's values
    (22, -16, 1.9, "front view low-angle shot wide shot"),
    (23, -15, 2.0, "front-right quarter view eye-level shot medium shot"),  # each bound starts the next term
    (90, 44, 5.9, "right side view elevated shot medium shot"),
    (135, 45, 6.0, "back-right quarter view high-angle shot close-up"),
    (180, 60, 10.0, "back view high-angle shot close-up"),
    (247, 0, 0.0, "back-left quarter view eye-level shot wide shot"),
    (270, 0, 5.0, "left side view eye-level shot medium shot"),
    (338, 0, 5.0, "front view eye-level shot medium shot"),  # past 337.5 the front again
    (360, 0, 5.0, "front view eye-level shot medium shot"),
])
def test_the_shot_words_for_each_sector_elevation_and_distance(horizontal, vertical, zoom, words):
    assert describe(horizontal_angle=horizontal, vertical_angle=vertical, zoom=zoom) == words


def test_it_runs_in_a_graph_without_evaluating_its_preview_image(tmp_path):
    graph = new_graph()
    broken = add(graph, "image.load", image=str(tmp_path / "missing.png"))  # would fail if it ran
    camera = add(graph, "basic.camera_angle", {"image": (broken, "image")}, horizontal_angle=180,
                 vertical_angle=30, zoom=8.0)
    add(graph, "basic.show", {"value": (camera, "prompt")})
    result = Executor(device="cpu").run(graph, output_dir=tmp_path)
    assert result.ok, result.errors
    assert result.values[camera]["prompt"] == "back view elevated shot close-up"
    assert broken not in result.values


@pytest.mark.parametrize(("field", "value", "words"), [
    ("vertical_angle", 75, "75 is above the maximum 60"),
    ("horizontal_angle", -1, "-1 is below the minimum 0"),
    ("zoom", 12.5, "12.5 is above the maximum 10"),
])
def test_an_angle_out_of_range_is_one_line_naming_node_and_field(field, value, words):
    graph = new_graph()
    with pytest.raises(GraphEditError) as info:
        add(graph, "basic.camera_angle", **{field: value})
    message = str(info.value)
    assert "\n" not in message and f"node 1 input '{field}': {words}" in message
