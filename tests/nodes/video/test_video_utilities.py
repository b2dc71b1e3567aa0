"""The video utilities ComfyUI's video templates use between loading and saving: Video Slice, Trim
Video Latent, Audio Concat, Resize And Pad Image, Rebatch Images and Image Composite Masked's
resize_source, with ComfyUI's defaults, its behaviour on small hand-made values, and one-line
refusals naming their field."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from nodeflow.core.context import RunContext
from nodeflow.core.errors import NodeError
from nodes.audio.audio import AudioConcat
from nodes.image.batch import RebatchImages
from nodes.image.load_save import ImageCompositeMasked
from nodes.image.sizes import ResizeAndPadImage, resize
from nodes.latent.video import TrimVideoLatent
from nodes.media import Video, make_audio
from nodes.video.video import VideoSlice


def numbered_frames(count: int) -> torch.Tensor:
    """Frames whose pixels say their index (i / 100), so a slice can be read back exactly."""
    return (torch.arange(count, dtype=torch.float32) / 100)[:, None, None, None].expand(count, 4, 6, 3).contiguous()


def counting_sound(seconds: float, rate: int = 1000, channels: int = 1) -> dict:
    """Sound whose samples count up, so a cut can be located."""
    samples = torch.arange(int(seconds * rate), dtype=torch.float32)
    return make_audio(samples.expand(1, channels, -1).contiguous(), rate)


def frame_indices(video: Video) -> list[int]:
    return [round(float(v) * 100) for v in video.images[:, 0, 0, 0]]


# Video Slice ------------------------------------------------------------------------------------

def slice_of(video: Video, start: float, duration: float, strict: bool = False) -> Video:
    return VideoSlice().run(RunContext(), video, start, duration, strict)[0]


def test_video_slice_keeps_the_frames_and_sound_of_its_window():
    video = Video(numbered_frames(10), Fraction(5), counting_sound(2.0))  # 2 s: frame i at i / 5 s
    out = slice_of(video, 0.4, 1.0)
    assert frame_indices(out) == [2, 3, 4, 5, 6] and out.fps == Fraction(5)
    sound = out.audio["waveform"][0, 0]
    assert sound.shape[-1] == 1000 and float(sound[0]) == 400.0  # from 0.4 s, for 1 s


@pytest.mark.parametrize("start, duration, frames", [
    (0.0, 0.0, list(range(10))),  # ComfyUI's defaults: the whole video
    (0.5, 0.0, [3, 4, 5, 6, 7, 8, 9]),  # duration 0: to the end; frame 3 is the first at or after 0.5 s
    (-0.6, 0.0, [7, 8, 9]),  # negative: from the end
    (1.6, 5.0, [8, 9]),  # longer than what is left: what is left
])
def test_video_slice_windows(start, duration, frames):
    assert frame_indices(slice_of(Video(numbered_frames(10), Fraction(5)), start, duration)) == frames


def test_video_slice_defaults_are_comfyuis():
    assert [VideoSlice.input(n).default for n in ("start_time", "duration", "strict_duration")] == [0.0, 0.0, False]


def test_video_slice_drops_sound_the_window_does_not_reach():
    video = Video(numbered_frames(10), Fraction(5), counting_sound(0.5))
    assert slice_of(video, 1.0, 0.0).audio is None
    assert slice_of(video, 0.2, 0.0005).audio is None  # under one sample of sound


@pytest.mark.parametrize("start, duration, strict, field", [
    (1.6, 1.0, True, "duration"),  # 0.4 s left, strict
    (2.5, 0.0, False, "start_time"),  # past the end
    (0.0, -1.0, False, "duration"),
])
def test_video_slice_refusals_name_their_field(start, duration, strict, field):
    with pytest.raises(NodeError) as caught:
        slice_of(Video(numbered_frames(10), Fraction(5)), start, duration, strict)
    assert caught.value.field == field and "\n" not in str(caught.value)


# Trim Video Latent ------------------------------------------------------------------------------

def test_trim_video_latent_drops_latent_frames_from_the_start():
    samples = torch.arange(5, dtype=torch.float32)[None, None, :, None, None].expand(2, 4, 5, 3, 3).contiguous()
    latent = {"samples": samples, "downscale": 8, "latent_dist": object()}
    (out,) = TrimVideoLatent().run(RunContext(), latent, 2)
    assert out["samples"].shape == (2, 4, 3, 3, 3) and out["samples"][0, 0, :, 0, 0].tolist() == [2.0, 3.0, 4.0]
    assert out["downscale"] == 8 and "latent_dist" not in out  # the posterior described the untrimmed frames
    assert TrimVideoLatent().run(RunContext(), latent, 0)[0]["samples"].shape == samples.shape
    assert TrimVideoLatent.input("trim_amount").default == 0 and TrimVideoLatent.input("trim_amount").max == 99999


@pytest.mark.parametrize("latent, amount, field", [
    ({"samples": torch.zeros(1, 4, 8, 8)}, 0, "samples"),  # a picture latent
    ({"samples": torch.zeros(1, 16, 3, 8, 8)}, 3, "trim_amount"),  # nothing left
    ({"samples": torch.zeros(1, 16, 3, 8, 8), "empty_size": (64, 64), "empty_length": 9}, 1, "samples"),  # blank
])
def test_trim_video_latent_refusals(latent, amount, field):
    with pytest.raises(NodeError) as caught:
        TrimVideoLatent().run(RunContext(), latent, amount)
    assert caught.value.field == field and "\n" not in str(caught.value)


# Audio Concat -----------------------------------------------------------------------------------

def test_audio_concat_joins_in_either_direction_and_makes_mono_stereo():
    first, second = counting_sound(0.3, channels=1), counting_sound(0.2, channels=2)
    (after,) = AudioConcat().run(RunContext(), first, second, "after")
    assert after["sample_rate"] == 1000 and after["waveform"].shape == (1, 2, 500)
    assert torch.equal(after["waveform"][:, :, :300], first["waveform"].repeat(1, 2, 1))
    (before,) = AudioConcat().run(RunContext(), first, second, "before")
    assert torch.equal(before["waveform"][:, :, :200], second["waveform"])
    assert AudioConcat.input("direction").default == "after"


def test_audio_concat_brings_the_lower_rate_up():
    low = make_audio(torch.zeros(1, 2, 8000), 8000)
    high = make_audio(torch.zeros(1, 2, 16000), 16000)
    (out,) = AudioConcat().run(RunContext(), low, high, "after")
    assert out["sample_rate"] == 16000
    assert out["waveform"].shape[-1] == pytest.approx(32000, abs=64)  # 1 s at 16 kHz, then 1 s


@pytest.mark.parametrize("audio1, audio2, field", [
    ({"waveform": torch.zeros(1, 2, 10)}, counting_sound(0.1), "audio1"),
    (counting_sound(0.1), make_audio(torch.zeros(2, 2, 10), 1000), "audio2"),  # batch 1 against 2
])
def test_audio_concat_refusals(audio1, audio2, field):
    with pytest.raises(NodeError) as caught:
        AudioConcat().run(RunContext(), audio1, audio2, "after")
    assert caught.value.field == field and "\n" not in str(caught.value)


# Resize And Pad Image ---------------------------------------------------------------------------

def test_resize_and_pad_fits_then_pads_centred():
    image = torch.rand(2, 20, 40, 3, generator=torch.Generator().manual_seed(0))
    (out,) = ResizeAndPadImage().run(RunContext(), image, 32, 32, "white", "area")
    assert out.shape == (2, 32, 32, 3)
    assert torch.equal(out[:, 8:24], resize(RunContext(), image, 32, 16, "area"))
    assert bool((out[:, :8] == 1).all()) and bool((out[:, 24:] == 1).all())
    (black,) = ResizeAndPadImage().run(RunContext(), image, 40, 24, "black", "bilinear")
    assert bool((black[:, :2] == 0).all()) and bool((black[:, 22:] == 0).all())  # 40x20 in 40x24: 2 rows each side
    defaults = [ResizeAndPadImage.input(n).default for n in ("target_width", "target_height", "padding_color",
                                                             "interpolation")]
    assert defaults == [512, 512, "white", "area"]


def test_resize_and_pad_refuses_a_fit_to_nothing():
    with pytest.raises(NodeError) as caught:
        ResizeAndPadImage().run(RunContext(), torch.zeros(1, 400, 4, 3), 64, 1, "white", "area")
    assert caught.value.field == "target_height" and "\n" not in str(caught.value)


def test_resize_and_pad_tells_the_memory_plan_its_size():
    assert ResizeAndPadImage.picture_pixels({"target_width": 64, "target_height": 32}, 10_000) == 2048


# Rebatch Images ---------------------------------------------------------------------------------

def test_rebatch_images_passes_a_batch_that_fits_and_refuses_a_split():
    images = torch.zeros(5, 4, 4, 3)
    assert RebatchImages().run(RunContext(), images, 4096)[0] is images
    with pytest.raises(NodeError) as caught:
        RebatchImages().run(RunContext(), images, 2)
    assert caught.value.field == "batch_size" and "3 batches" in str(caught.value)
    assert RebatchImages.input("batch_size").default == 1


# Image Composite Masked: resize_source ----------------------------------------------------------

def test_composite_resize_source_stretches_the_source_bilinearly():
    destination = torch.zeros(1, 16, 16, 3)
    source = torch.rand(1, 8, 8, 3, generator=torch.Generator().manual_seed(1))
    (out,) = ImageCompositeMasked().run(RunContext(), destination, source, 0, 0, None, True)
    expected = torch.nn.functional.interpolate(source.movedim(-1, 1), size=(16, 16), mode="bilinear").movedim(1, -1)
    assert torch.equal(out, expected)
    (plain,) = ImageCompositeMasked().run(RunContext(), destination, source, 0, 0)
    assert torch.equal(plain[:, :8, :8], source) and bool((plain[:, 8:] == 0).all())
    assert ImageCompositeMasked.input("resize_source").default is False
