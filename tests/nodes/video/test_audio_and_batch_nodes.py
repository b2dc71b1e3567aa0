"""Sound nodes (Load Audio, Trim Audio Duration, Save Audio: files read back with PyAV) and the
picture-batch nodes of ComfyUI's video graphs (Empty Image, Image From Batch, Repeat Image Batch,
Solid Mask), with ComfyUI's defaults and their refusals."""

from __future__ import annotations

import math
from pathlib import Path

import av
import pytest
import torch

from nodeflow.core.context import RunContext
from nodeflow.core.errors import NodeError
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.reads import ReadRule
from nodes.audio.audio import LoadAudio, SaveAudio, TrimAudioDuration
from nodes.image.batch import EmptyImage, ImageFromBatch, RepeatImageBatch
from nodes.mask.masks import SolidMask
from nodes.media import make_audio


def tone(seconds: float, rate: int = 44100, channels: int = 2, batch: int = 1) -> dict:
    t = torch.arange(int(seconds * rate)) / rate
    wave = 0.3 * torch.sin(2 * math.pi * 440 * t)
    return make_audio(wave.expand(batch, channels, -1).contiguous(), rate)


def save(folder: Path, audio: dict, fmt: str, quality: str = "128k") -> list[Path]:
    (out,) = SaveAudio().run(RunContext(output_dir=folder, workflow_json="{}"), audio, "audio/take", fmt, quality)
    assert out is audio
    return sorted((folder / "audio").glob(f"*.{fmt}"))


@pytest.mark.parametrize("fmt, quality, codec", [("flac", "128k", "flac"), ("mp3", "V0", "mp3"),
                                                 ("mp3", "320k", "mp3"), ("opus", "96k", "opus")])
def test_saved_sound_reads_back_with_its_length_and_channels(tmp_path, fmt, quality, codec):
    (path,) = save(tmp_path, tone(1.0), fmt, quality)
    assert path.name == f"take_00001.{fmt}"
    with av.open(str(path)) as container:
        (stream,) = container.streams.audio
        assert stream.codec_context.name.startswith(codec) and stream.channels == 2
        # opus only takes 8/12/16/24/48 kHz: 44.1 kHz goes up to 48 kHz, as ComfyUI does
        assert stream.sample_rate == (48000 if fmt == "opus" else 44100)
        assert float(container.duration) / av.time_base == pytest.approx(1.0, abs=0.1)


def test_a_batch_of_sounds_is_one_file_each(tmp_path):
    assert [p.name for p in save(tmp_path, tone(0.2, batch=2), "flac")] == ["take_00001.flac", "take_00002.flac"]


def test_flac_round_trip_through_load_audio_is_lossless(tmp_path):
    sound = tone(0.5, rate=16000, channels=1)
    (path,) = save(tmp_path, sound, "flac")
    ctx = RunContext(search_dirs=(path.parent,), reads=ReadRule.of([path.parent]))
    (loaded,) = LoadAudio().run(ctx, path.name)
    assert loaded["sample_rate"] == 16000 and loaded["waveform"].shape == (1, 1, 8000)
    assert torch.allclose(loaded["waveform"], sound["waveform"], atol=1 / 2**15)


@pytest.mark.parametrize("audio, fmt, quality, field", [
    (tone(0.1, channels=6), "flac", "128k", "audio"),
    (tone(0.1), "mp3", "96k", "quality"),
    (tone(0.1), "opus", "V0", "quality"),
    ({"waveform": torch.zeros(1, 2, 0), "sample_rate": 8000}, "flac", "128k", "audio"),
])
def test_save_audio_refuses_before_writing(tmp_path, audio, fmt, quality, field):
    with pytest.raises(NodeError) as caught:
        SaveAudio().run(RunContext(output_dir=tmp_path), audio, "audio/take", fmt, quality)
    assert caught.value.field == field and not (tmp_path / "audio").exists()


def test_load_audio_refuses_what_is_not_sound_and_what_lies_outside(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "song.mp3").write_bytes(b"\x00" * 64)
    (tmp_path / "song.flac").write_bytes(b"")
    ctx = RunContext(search_dirs=(tmp_path / "in",), reads=ReadRule.of([tmp_path / "in"]))
    with pytest.raises(NodeError, match="not a sound file") as caught:
        LoadAudio().run(ctx, "song.mp3")
    assert caught.value.field == "audio"
    with pytest.raises(NodeError) as caught:
        LoadAudio().run(ctx, str(tmp_path / "song.flac"))
    assert caught.value.field == "audio"


def test_trim_keeps_the_window_asked_for_counting_back_from_the_end_when_negative():
    sound = make_audio(torch.arange(100, dtype=torch.float32).expand(1, 1, -1), 10)  # 10 s at 10 Hz
    (head,) = TrimAudioDuration().run(RunContext(), sound, 2.0, 3.0)
    assert head["waveform"][0, 0].tolist() == list(range(20, 50))
    (tail,) = TrimAudioDuration().run(RunContext(), sound, -2.0, 60.0)  # past the end: cut at the end
    assert tail["waveform"][0, 0].tolist() == list(range(80, 100))
    assert (TrimAudioDuration.input("start_index").default, TrimAudioDuration.input("duration").default) == (0.0, 60.0)
    with pytest.raises(NodeError, match="nothing is left") as caught:
        TrimAudioDuration().run(RunContext(), sound, 12.0, 1.0)
    assert caught.value.field == "start_index"


def test_empty_image_is_one_colour_in_comfyui_order():
    (image,) = EmptyImage().run(RunContext(), 8, 4, 2, 0xFF8000)
    assert image.shape == (2, 4, 8, 3)
    assert image[1, 3, 7].tolist() == pytest.approx([1.0, 128 / 255, 0.0])
    assert [EmptyImage.input(n).default for n in ("width", "height", "batch_size", "color")] == [512, 512, 1, 0]
    assert EmptyImage.output_size({"width": 8, "height": 4, "batch_size": 2, "color": 0}, {}) == \
        FlowSize(2, 32, field="batch_size")


def test_image_from_batch_clamps_to_the_batch_as_comfyui_does():
    batch = torch.arange(5, dtype=torch.float32)[:, None, None, None].expand(5, 2, 2, 3)
    pick = ImageFromBatch().run
    assert pick(RunContext(), batch, 1, 2)[0][:, 0, 0, 0].tolist() == [1, 2]
    assert pick(RunContext(), batch, 9, 3)[0][:, 0, 0, 0].tolist() == [4]  # past the end: the last
    assert pick(RunContext(), batch, 3, 4096)[0][:, 0, 0, 0].tolist() == [3, 4]
    assert pick(RunContext(), batch, -1, 1)[0][:, 0, 0, 0].tolist() == [4]  # negative: from the end
    assert pick(RunContext(), batch, -2, 5)[0][:, 0, 0, 0].tolist() == [3, 4]
    assert pick(RunContext(), batch, -9, 1)[0][:, 0, 0, 0].tolist() == [0]  # before the start: the first
    assert ImageFromBatch.output_size({"length": 2}, {"image": FlowSize(5, 4)}).batch == 2


def test_repeat_image_batch_repeats_the_whole_batch():
    batch = torch.arange(2, dtype=torch.float32)[:, None, None, None].expand(2, 2, 2, 3)
    (out,) = RepeatImageBatch().run(RunContext(), batch, 3)
    assert out[:, 0, 0, 0].tolist() == [0, 1, 0, 1, 0, 1]
    assert RepeatImageBatch.output_size({"amount": 3}, {"image": FlowSize(2, 4)}) == FlowSize(6, 4, field="amount")
    assert RepeatImageBatch.input("amount").check_value(4096) == 4096
    with pytest.raises(ValueError):
        RepeatImageBatch.input("amount").check_value(0)


def test_solid_mask_is_one_value_everywhere():
    (mask,) = SolidMask().run(RunContext(), 0.5, 6, 4)
    assert mask.shape == (1, 4, 6) and torch.all(mask == 0.5)
    assert [SolidMask.input(n).default for n in ("value", "width", "height")] == [1.0, 512, 512]
    with pytest.raises(ValueError):
        SolidMask.input("value").check_value(1.5)
