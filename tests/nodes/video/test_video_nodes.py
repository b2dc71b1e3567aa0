"""Video nodes: Create Video, Get Video Components, Save Video (an mp4 read back with PyAV), Load Video,
and their refusals, each a one-line error naming node field before anything is encoded or decoded."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import pytest
import torch

from nodeflow.core.context import RunContext
from nodeflow.core.errors import NodeError
from nodeflow.core.files import PNG_WORKFLOW_KEY, SAVED_PATH_INFO
from nodeflow.core.reads import ReadRule
from nodes.media import Video, make_audio
from nodes.video.video import CreateVideo, GetVideoComponents, LoadVideo, SaveVideo


def frames(count: int = 5, height: int = 32, width: int = 48) -> torch.Tensor:
    """Frames that differ from each other (a brightness ramp), so a decoder cannot fake them."""
    ramp = torch.linspace(0.1, 0.9, count)[:, None, None, None]
    return ramp.expand(count, height, width, 3).contiguous()


def tone(seconds: float, rate: int = 16000, channels: int = 2) -> dict:
    t = torch.arange(int(seconds * rate)) / rate
    return make_audio((0.3 * torch.sin(2 * math.pi * 440 * t)).expand(1, channels, -1).contiguous(), rate)


def save(tmp_path: Path, video: Video, **params) -> tuple[Path, list, list]:
    shown, messages = [], []
    ctx = RunContext(output_dir=tmp_path, workflow_json='{"format": "nodeflow"}',
                     on_images=lambda _, images: shown.extend(images),
                     on_message=lambda _, message: messages.append(message))
    (out,) = SaveVideo().run(ctx, video, params.pop("filename_prefix", "video/clip"), **params)
    assert out is video
    (path,) = (tmp_path / "video").glob("*.mp4")
    return path, shown, messages


def test_create_video_keeps_the_frames_rate_and_sound():
    sound = tone(0.5)
    (video,) = CreateVideo().run(RunContext(), frames(), 24.0, sound)
    assert video.fps == Fraction(24) and video.audio is sound and video.frame_count == 5
    assert CreateVideo.input("fps").default == 30.0  # ComfyUI's default


@pytest.mark.parametrize("images, fps, audio, field", [
    (torch.zeros(0, 8, 8, 3), 24.0, None, "images"),
    (frames(), 0.0, None, "fps"),
    (frames(), 24.0, {"waveform": torch.zeros(1, 3, 100), "sample_rate": 16000}, "audio"),
    (frames(), 24.0, {"waveform": torch.zeros(1, 1, 100)}, "audio"),
])
def test_create_video_refuses_what_no_file_can_hold(images, fps, audio, field):
    with pytest.raises(NodeError) as caught:
        CreateVideo().run(RunContext(), images, fps, audio)
    assert caught.value.field == field and "\n" not in str(caught.value)


def test_components_give_back_frames_sound_and_rate():
    sound = tone(0.25)
    images, audio, fps = GetVideoComponents().run(RunContext(), Video(frames(), Fraction(30000, 1001), sound))
    assert images.shape == (5, 32, 48, 3) and audio is sound and fps == pytest.approx(29.97, abs=1e-3)


def test_saved_mp4_has_the_frames_size_rate_and_sound(tmp_path):
    video = Video(frames(6), 12.0, tone(1.0))
    path, shown, messages = save(tmp_path, video)
    assert path.name == "clip_00001.mp4"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.format.name) == ("h264", "yuv420p")
        assert (stream.width, stream.height, stream.average_rate) == (48, 32, Fraction(12))
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert container.metadata[PNG_WORKFLOW_KEY] == '{"format": "nodeflow"}'
    assert len(decoded) == 6
    # each frame's brightness survives the encoding (within h264's loss)
    expected = (frames(6)[:, 0, 0, 0] * 255).tolist()
    assert [float(f.mean()) for f in decoded] == pytest.approx(expected, abs=3)
    with av.open(str(path)) as container:
        (sound,) = container.streams.audio
        assert (sound.codec_context.name, sound.sample_rate, sound.channels) == ("aac", 16000, 2)
        # the sound is cut to the pictures' length: 6 frames at 12 fps = 0.5 s of the 1 s tone
        assert float(sound.duration * sound.time_base) == pytest.approx(0.5, abs=0.1)
    # the viewer gets the first frame, marked with the file; the run log names the file
    assert shown[0].size == (48, 32) and shown[0].info[SAVED_PATH_INFO] == str(path)
    assert any(str(path) in m and "6 frames of 48x32 at 12 fps" in m for m in messages)


def test_saved_mp4_without_sound_has_no_sound_stream(tmp_path):
    path, _, _ = save(tmp_path, Video(frames(2), 30.0))
    with av.open(str(path)) as container:
        assert len(container.streams.audio) == 0 and container.streams.video[0].frames == 2


def test_odd_sizes_are_refused_before_encoding(tmp_path):
    with pytest.raises(NodeError, match=r"even width and height; the video is 47x32") as caught:
        save(tmp_path, Video(frames(2, 32, 47), 24.0))
    assert caught.value.field == "video" and not (tmp_path / "video").exists()


@pytest.mark.parametrize("prefix", ["../escape", "/tmp/abs/clip", "video/../../out"])
def test_a_prefix_leaving_the_output_folder_is_refused_as_save_image_refuses_it(tmp_path, prefix):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(NodeError) as caught:
        SaveVideo().run(RunContext(output_dir=out), Video(frames(2), 24.0), prefix)
    assert caught.value.field == "filename_prefix"
    assert list(tmp_path.rglob("*.mp4")) == []


def write_clip(folder: Path, name: str = "clip.mp4", count: int = 4, sound: bool = True) -> Path:
    """An mp4 written by Save Video itself, moved into an input folder."""
    path, _, _ = save(folder / "made", Video(frames(count), 8.0, tone(1.0) if sound else None))
    target = folder / name
    path.rename(target)
    return target


def test_load_video_reads_frames_rate_and_sound(tmp_path):
    clip = write_clip(tmp_path)
    ctx = RunContext(search_dirs=(tmp_path,), reads=ReadRule.of([tmp_path]))
    (video,) = LoadVideo().run(ctx, "clip.mp4")
    assert (video.frame_count, video.width, video.height, video.fps) == (4, 48, 32, Fraction(8))
    assert video.images.dtype == torch.float32 and 0.0 <= float(video.images.min()) <= float(video.images.max()) <= 1
    assert video.audio["sample_rate"] == 16000 and video.audio["waveform"].shape[:2] == (1, 2)
    needs = LoadVideo.memory_needs({"file": "clip.mp4"}, lambda name: clip)
    assert needs[0].pixels == 4 * 48 * 32 and needs[0].field == "file"


def test_load_video_refuses_files_outside_the_input_folders(tmp_path):
    inside, outside = tmp_path / "in", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    write_clip(outside)
    ctx = RunContext(search_dirs=(inside,), reads=ReadRule.of([inside]))
    with pytest.raises(NodeError) as caught:
        LoadVideo().run(ctx, str(outside / "clip.mp4"))
    assert caught.value.field == "file"


def test_load_video_refuses_a_file_that_is_not_a_video(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video at all")
    ctx = RunContext(search_dirs=(tmp_path,), reads=ReadRule.of([tmp_path]))
    with pytest.raises(NodeError, match="not a video") as caught:
        LoadVideo().run(ctx, "notes.mp4")
    assert caught.value.field == "file"
    assert LoadVideo.memory_needs({"file": "notes.mp4"}, lambda name: tmp_path / name) == []


def test_load_video_refuses_more_frames_than_allowed_before_decoding(tmp_path, monkeypatch):
    import nodes.video.video as module

    write_clip(tmp_path, count=4, sound=False)
    monkeypatch.setattr(module, "MAX_LOAD_FRAMES", 3)
    ctx = RunContext(search_dirs=(tmp_path,), reads=ReadRule.of([tmp_path]))
    with pytest.raises(NodeError, match="4 frames, over the 3 allowed") as caught:
        LoadVideo().run(ctx, "clip.mp4")
    assert caught.value.field == "file"
