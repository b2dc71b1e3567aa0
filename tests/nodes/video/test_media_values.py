"""AUDIO and VIDEO values (nodes.media): their shapes, exact frame rates and refusals."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from nodeflow.core.types import AUDIO, IMAGE, VIDEO, can_connect
from nodeflow.engine.sizes import value_bytes
from nodes.media import Video, audio_seconds, frame_rate, make_audio


def test_decimal_rates_are_kept_to_a_thousandth_as_comfyui_writes_them():
    assert frame_rate(24) == Fraction(24)
    assert frame_rate(23.976) == Fraction(2997, 125)
    assert frame_rate(Fraction(30000, 1001)) == Fraction(30000, 1001)


@pytest.mark.parametrize("fps", [0, -1.0, 1001, "24", True])
def test_rates_that_cannot_play_are_refused(fps):
    with pytest.raises(ValueError, match="frame rate"):
        frame_rate(fps)


def test_a_video_holds_frames_rate_and_sound():
    sound = make_audio(torch.zeros(1, 2, 16000), 16000)
    video = Video(torch.rand(5, 32, 48, 3), 10.0, sound)
    assert (video.frame_count, video.width, video.height, video.fps) == (5, 48, 32, Fraction(10))
    assert video.seconds == 0.5 and audio_seconds(sound) == 1.0
    # the memory plan sees the frames and the sound
    assert value_bytes(video) == 5 * 32 * 48 * 3 * 4 + 2 * 16000 * 4


@pytest.mark.parametrize("frames, message", [
    (torch.rand(0, 8, 8, 3), "at least one frame"),
    (torch.rand(8, 8, 3), r"\[frames, H, W, 3\]"),
    (torch.rand(2, 8, 8, 4), r"\[frames, H, W, 3\]"),
])
def test_frames_that_are_not_a_picture_batch_are_refused(frames, message):
    with pytest.raises(ValueError, match=message):
        Video(frames, 24)


@pytest.mark.parametrize("waveform, rate, message", [
    (torch.zeros(2, 100), 8000, r"\[batch, channels, samples\]"),
    (torch.zeros(1, 0, 100), 8000, "one channel"),
    (torch.zeros(1, 1, 100), 0, "sample rate"),
    (torch.zeros(1, 1, 100), 8000.0, "sample rate"),
])
def test_sound_nothing_could_play_is_refused(waveform, rate, message):
    with pytest.raises(ValueError, match=message):
        make_audio(waveform, rate)


def test_video_and_audio_sockets_connect_only_to_their_own_kind():
    assert can_connect(VIDEO, VIDEO) and can_connect(AUDIO, AUDIO)
    assert not can_connect(VIDEO, IMAGE) and not can_connect(AUDIO, VIDEO)
