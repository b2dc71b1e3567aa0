"""ComfyUI's video utility classes (Video Slice, TrimVideoLatent, RecordAudio, AudioConcat,
ResizeAndPadImage, RebatchImages, ImageCompositeMasked with resize_source): the values the official
templates save map fully onto NodeFlow's nodes, and a sliced video graph runs and exports back."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from nodeflow.engine import Executor
from nodeflow.interop.comfyui import export_api, import_data


def _imported(registry, class_type: str, widgets: list):
    node = {"id": 1, "type": class_type, "mode": 0, "widgets_values": widgets, "inputs": [], "outputs": []}
    workflow = {"version": 0.4, "last_node_id": 1, "last_link_id": 0, "nodes": [node], "links": []}
    graph, report = import_data(workflow, registry)
    return graph.nodes["1"], report


@pytest.mark.parametrize("class_type, widgets, node_type, params", [
    ("Video Slice", [0, 5, False], "video.slice", {"start_time": 0.0, "duration": 5.0, "strict_duration": False}),
    ("TrimVideoLatent", [0], "latent.trim_video", {"trim_amount": 0}),
    ("RecordAudio", ["", ""], "audio.load", {"audio": ""}),
    ("AudioConcat", ["after"], "audio.concat", {"direction": "after"}),
    ("ResizeAndPadImage", [512, 512, "white", "lanczos"], "image.resize_and_pad",
     {"target_width": 512, "target_height": 512, "padding_color": "white", "interpolation": "lanczos"}),
    ("RebatchImages", [4096], "image.rebatch", {"batch_size": 4096}),
    ("RebatchImages", [16, 2, "truncate start"], "image.rebatch", {"batch_size": 16}),
    ("ImageCompositeMasked", [0, 0, True], "image.composite_masked", {"x": 0, "y": 0, "resize_source": True}),
])
def test_the_templates_saved_values_map_fully(registry, class_type, widgets, node_type, params):
    node, report = _imported(registry, class_type, widgets)
    assert report.fully_mapped, report.lines()
    assert (node.type, node.params) == (node_type, params)


def test_a_recording_uploaded_to_comfyuis_temp_folder_is_read_from_the_input_folder(registry):
    node, report = _imported(registry, "RecordAudio", ["audio/recording-1700000000000.wav [temp]", ""])
    assert report.fully_mapped, report.lines()
    assert node.params == {"audio": "audio/recording-1700000000000.wav"}
    assert any("temp folder" in line for line in report.notes), report.notes


def _sliced_prompt() -> dict:
    """LoadVideo -> Video Slice (0.4 s for 0.6 s) -> SaveVideo."""
    return {
        "1": {"class_type": "LoadVideo", "inputs": {"file": "input.mp4"}},
        "2": {"class_type": "Video Slice", "inputs": {"video": ["1", 0], "start_time": 0.4, "duration": 0.6,
                                                      "strict_duration": True}},
        "3": {"class_type": "SaveVideo", "inputs": {"video": ["2", 0], "filename_prefix": "video/ComfyUI",
                                                     "format": "auto", "codec": "auto"}},
    }


def test_an_imported_sliced_video_graph_runs_and_exports_back(registry, tmp_path):
    with av.open(str(tmp_path / "input.mp4"), mode="w") as container:  # 10 frames at 10 fps
        stream = container.add_stream("h264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        for index in range(10):
            picture = av.VideoFrame.from_ndarray(np.full((24, 32, 3), 20 * index, np.uint8), format="rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    graph, report = import_data(_sliced_prompt(), registry)
    assert report.fully_mapped, report.lines()
    result = Executor(registry, device="cpu").run(graph, output_dir=tmp_path / "out", workflow_dir=tmp_path)
    assert result.ok, result.errors
    (saved,) = (tmp_path / "out" / "video").glob("*.mp4")
    with av.open(str(saved)) as container:
        video = container.streams.video[0]
        assert video.average_rate == Fraction(10) and sum(1 for _ in container.decode(video)) == 6  # frames 4..9
    prompt, problems = export_api(graph)
    assert problems == []
    assert {k: prompt["2"][k] for k in ("class_type", "inputs")} == _sliced_prompt()["2"]
