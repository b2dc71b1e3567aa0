"""ComfyUI's video, sound and picture-batch classes (classes/video.py): the values the official
templates save map onto NodeFlow's nodes, what NodeFlow does not do is reported, an imported
video graph runs and writes its mp4, and the API prompt exports back."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from nodeflow.engine import Executor
from nodeflow.interop.comfyui import export_api, import_data, import_source
from nodeflow.interop.comfyui.source import read_source


def _one(class_type: str, widgets: list, inputs: list | None = None, outputs: list | None = None) -> dict:
    """A UI workflow of one node saved with `widgets`."""
    node = {"id": 1, "type": class_type, "mode": 0, "widgets_values": widgets, "inputs": inputs or [],
            "outputs": outputs or []}
    return {"version": 0.4, "last_node_id": 1, "last_link_id": 0, "nodes": [node], "links": []}


def _imported(registry, class_type: str, widgets: list, inputs: list | None = None):
    graph, report = import_data(_one(class_type, widgets, inputs), registry)
    return graph.nodes["1"], report


_VIDEO_IN = [{"name": "video", "type": "VIDEO", "link": None}]


@pytest.mark.parametrize("widgets, crf", [
    (["video/ComfyUI", "auto", "auto"], None),             # before ComfyUI 0.4: format, codec
    (["video/ComfyUI", "auto", "auto", "auto"], None),     # format, format.codec, codec
    (["video/ComfyUI", "mp4", "auto", "h264", "auto"], None),
    (["video/ComfyUI", "mp4", "h264", "re-encode", 18], 18.0),
])
def test_save_video_choices_that_mean_an_h264_mp4_map_fully(registry, widgets, crf):
    node, report = _imported(registry, "SaveVideo", widgets, _VIDEO_IN)
    assert report.fully_mapped, report.lines()
    expected = {"filename_prefix": "video/ComfyUI", "format": "mp4", "codec": "h264", "eight_bit": "truncate"}
    assert node.type == "video.save" and node.params == expected | ({"crf": crf} if crf is not None else {})


def test_save_video_in_another_container_or_codec_is_reported(registry):
    node, report = _imported(registry, "SaveVideo", ["video/ComfyUI", "webm", "av1"], _VIDEO_IN)
    assert not report.fully_mapped
    assert any("format='webm'" in line for line in report.problems), report.problems
    assert any("codec='av1'" in line for line in report.problems), report.problems


@pytest.mark.parametrize("widgets", [[16], [24, 8], [24, "auto", "sRGB"], [24, "auto", "sRGB", "none"]])
def test_create_video_saved_by_any_version_maps_to_its_rate(registry, widgets):
    node, report = _imported(registry, "CreateVideo", widgets, [{"name": "images", "type": "IMAGE", "link": None}])
    assert report.fully_mapped, report.lines()
    assert node.type == "video.create" and node.params == {"fps": float(widgets[0])}


def test_create_video_in_ten_bits_or_hdr_is_reported_not_carried(registry):
    _, report = _imported(registry, "CreateVideo", [24, 10, "HDR"])
    assert any("'bit_depth'" in line and "not carried over" in line for line in report.problems), report.problems
    assert any("'color_space'" in line and "not carried over" in line for line in report.problems)


@pytest.mark.parametrize("class_type, widgets, params", [
    ("SaveAudioAdvanced", ["audio/ComfyUI", "mp3", "V0"], {"format": "mp3", "quality": "V0"}),
    ("SaveAudioAdvanced", ["audio/ComfyUI", "flac"], {"format": "flac"}),
    ("SaveAudioAdvanced", ["audio/ComfyUI", "opus", "192k"], {"format": "opus", "quality": "192k"}),
    ("SaveAudio", ["audio/ComfyUI"], {"format": "flac"}),
    ("SaveAudioMP3", ["audio/ComfyUI", "320k"], {"format": "mp3", "quality": "320k"}),
    ("SaveAudioOpus", ["audio/ComfyUI", "64k"], {"format": "opus", "quality": "64k"}),
])
def test_every_save_audio_class_is_save_audio_in_its_format(registry, class_type, widgets, params):
    node, report = _imported(registry, class_type, widgets, [{"name": "audio", "type": "AUDIO", "link": None}])
    assert report.fully_mapped, report.lines()
    assert node.type == "audio.save" and node.params == {"filename_prefix": "audio/ComfyUI"} | params


@pytest.mark.parametrize("class_type, widgets, node_type, params", [
    ("LoadVideo", ["spear_warrior.mp4", "image"], "video.load", {"file": "spear_warrior.mp4"}),
    ("LoadAudio", ["long_demo.mp3", None, None], "audio.load", {"audio": "long_demo.mp3"}),
    ("LoadAudio", ["long_demo.mp3", ""], "audio.load", {"audio": "long_demo.mp3"}),
    ("TrimAudioDuration", [0, 25], "audio.trim", {"start_index": 0.0, "duration": 25.0}),
    ("EmptyImage", [1024, 1024, 1, 16711680], "image.empty",
     {"width": 1024, "height": 1024, "batch_size": 1, "color": 16711680}),
    ("ImageFromBatch", [1, 4096], "image.from_batch", {"batch_index": 1, "length": 4096}),
    ("RepeatImageBatch", [125], "image.repeat_batch", {"amount": 125}),
    ("SolidMask", [0.5, 1024, 1024], "mask.solid", {"value": 0.5, "width": 1024, "height": 1024}),
])
def test_the_templates_saved_values_map_fully(registry, class_type, widgets, node_type, params):
    node, report = _imported(registry, class_type, widgets)
    assert report.fully_mapped, report.lines()
    assert (node.type, node.params) == (node_type, params)


def test_the_gan_upscaler_template_maps_fully(registry):
    templates = pytest.importorskip("comfyui_workflow_templates_json")
    path = Path(templates.__file__).parent / "templates" / "utility-gan_upscaler.json"
    if not path.is_file():
        pytest.skip("this version of the templates package has no utility-gan_upscaler")
    graph, report = import_source(read_source(path), registry)
    assert report.fully_mapped, report.lines()
    types = sorted(n.type for n in graph.nodes.values())
    assert [t for t in types if t.startswith("video.")] == ["video.components", "video.create", "video.load",
                                                            "video.save"]


def _video_prompt() -> dict:
    """LoadVideo -> GetVideoComponents -> ImageFromBatch (3 frames) -> CreateVideo (with the sound) -> SaveVideo."""
    return {
        "1": {"class_type": "LoadVideo", "inputs": {"file": "input.mp4"}},
        "2": {"class_type": "GetVideoComponents", "inputs": {"video": ["1", 0]}},
        "3": {"class_type": "ImageFromBatch", "inputs": {"image": ["2", 0], "batch_index": 1, "length": 3}},
        "4": {"class_type": "CreateVideo", "inputs": {"images": ["3", 0], "audio": ["2", 1], "fps": 10}},
        "5": {"class_type": "SaveVideo", "inputs": {"video": ["4", 0], "filename_prefix": "video/ComfyUI",
                                                     "format": "auto", "codec": "auto"}},
    }


def _input_video(folder: Path) -> None:
    """A 5-frame 32x24 mp4 at 5 fps with a second of stereo sound, written with PyAV."""
    with av.open(str(folder / "input.mp4"), mode="w") as container:
        stream = container.add_stream("h264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        sound = container.add_stream("aac", rate=8000, layout="stereo")
        for index in range(5):
            picture = av.VideoFrame.from_ndarray(np.full((24, 32, 3), 40 * index, np.uint8), format="rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
        block = av.AudioFrame.from_ndarray(np.zeros((2, 8000), np.float32), format="fltp", layout="stereo")
        block.sample_rate, block.pts = 8000, 0
        container.mux(sound.encode(block))
        container.mux(sound.encode(None))


def test_an_imported_video_graph_runs_and_writes_its_mp4(registry, tmp_path):
    _input_video(tmp_path)
    graph, report = import_data(_video_prompt(), registry)
    assert report.fully_mapped, report.lines()
    result = Executor(registry, device="cpu").run(graph, output_dir=tmp_path / "out", workflow_dir=tmp_path)
    assert result.ok, result.errors
    (saved,) = (tmp_path / "out" / "video").glob("*.mp4")
    with av.open(str(saved)) as container:
        video = container.streams.video[0]
        assert (video.width, video.height, video.average_rate) == (32, 24, Fraction(10))
        assert sum(1 for _ in container.decode(video)) == 3
        assert container.streams.audio[0].channels == 2


def test_the_video_prompt_exports_back_to_comfyui(registry):
    graph, _ = import_data(_video_prompt(), registry)
    prompt, problems = export_api(graph)
    assert problems == []
    assert [prompt[k]["class_type"] for k in sorted(prompt)] == [
        "LoadVideo", "GetVideoComponents", "ImageFromBatch", "CreateVideo", "SaveVideo"]
    assert prompt["3"]["inputs"] == {"image": ["2", 0], "batch_index": 1, "length": 3}
    assert prompt["4"]["inputs"] == {"images": ["3", 0], "audio": ["2", 1], "fps": 10}
    graph.nodes["5"].params["crf"] = 20.0  # edited after import: the values are exported from NodeFlow's
    exported = export_api(graph)[0]["5"]["inputs"]
    assert exported == {"video": ["4", 0], "filename_prefix": "video/ComfyUI", "format": "mp4", "codec": "h264"}
