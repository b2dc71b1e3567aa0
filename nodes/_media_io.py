"""Video and sound files through PyAV (FFmpeg): what Save/Load Video and Load/Save Audio read and write.

Written from ComfyUI's documented behaviour (its VIDEO and AUDIO types and save helpers), not its
code: an mp4 is h264 in yuv420p with BT.709 colour tags, frames made 8-bit as the caller chooses,
the sound (first batch item, cut to the pictures' length) as AAC at its own sample rate, and the
workflow as container metadata; sound files are FLAC, MP3 (libmp3lame) or Opus, one per batch item.
Reading gives frames as float RGB in [0, 1], the stream's average frame rate and its first decodable
sound track resampled to float planar. Errors are ValueError with a sentence the node turns into its
own one-line error; nothing here knows node or field names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

from nodes._lazy import lazy
from nodes.media import CHANNEL_LAYOUTS as LAYOUTS

torch = lazy("torch")
np = lazy("numpy")

#: Sample rates the Opus encoder takes; others are resampled to the next one up (48 kHz above).
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
#: Sound formats Save Audio writes, with their quality choices (ComfyUI's: V0 is LAME's best VBR).
AUDIO_QUALITIES = {"flac": (), "mp3": ("V0", "128k", "320k"), "opus": ("64k", "96k", "128k", "192k", "320k")}


@dataclass(frozen=True)
class VideoHeader:
    """What a video file's header says, read without decoding: for the memory check before loading."""

    width: int
    height: int
    #: Frames the header counts (estimated from duration and rate where it counts none).
    frames: int
    fps: Fraction


def _av() -> Any:
    import av

    return av


def probe_video(path: Path) -> VideoHeader:
    """The first video stream's size, frame count and rate; ValueError when there is none."""
    av = _av()
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                raise ValueError(f"{path.name} holds no video stream")
            stream = container.streams.video[0]
            rate = Fraction(stream.average_rate) if stream.average_rate else Fraction(1)
            frames = int(stream.frames or 0)
            if frames <= 0:
                seconds = (float(stream.duration * stream.time_base) if stream.duration and stream.time_base
                           else float(container.duration or 0) / av.time_base)
                frames = max(1, round(seconds * float(rate)))
            return VideoHeader(int(stream.width), int(stream.height), frames, rate)
    except av.error.FFmpegError as exc:
        raise ValueError(f"{path.name} is not a video FFmpeg can read ({exc.strerror or exc})") from None


def read_video(path: Path, max_frames: int, check: Any = None) -> tuple[Any, Fraction, dict | None]:
    """(frames IMAGE [N, H, W, 3] float32, frame rate, AUDIO or None) of a video file.

    Refuses, before decoding all of it, a file with more than `max_frames` frames or frames that
    change size. `check()` is called between frames (the run's cancel)."""
    av = _av()
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                raise ValueError(f"{path.name} holds no video stream")
            stream = container.streams.video[0]
            rate = Fraction(stream.average_rate) if stream.average_rate else Fraction(1)
            frames: list[Any] = []
            for frame in container.decode(stream):
                if len(frames) >= max_frames:
                    raise ValueError(f"{path.name} has more than {max_frames} frames")
                array = frame.to_ndarray(format="rgb24")
                if frames and array.shape != frames[0].shape:
                    raise ValueError(f"{path.name} changes frame size from {frames[0].shape[1]}x{frames[0].shape[0]} "
                                     f"to {array.shape[1]}x{array.shape[0]}")
                frames.append(array)
                if check is not None:
                    check()
            if not frames:
                raise ValueError(f"{path.name} holds no decodable video frame")
            audio = _read_sound(container)
    except av.error.FFmpegError as exc:
        raise ValueError(f"{path.name} is not a video FFmpeg can read ({exc.strerror or exc})") from None
    images = torch.from_numpy(np.stack(frames)).float() / 255.0
    return images, rate, audio


def media_seconds(path: Path) -> float:
    """How long a sound or video file says it lasts (0 when its header does not say), read from
    the header only."""
    av = _av()
    try:
        with av.open(str(path), mode="r") as container:
            return float(container.duration or 0) / av.time_base
    except av.error.FFmpegError as exc:
        raise ValueError(f"{path.name} is not a sound file FFmpeg can read ({exc.strerror or exc})") from None


def read_audio(path: Path) -> dict:
    """AUDIO {"waveform" [1, channels, samples] float32, "sample_rate"} of a sound (or video) file."""
    av = _av()
    try:
        with av.open(str(path), mode="r") as container:
            audio = _read_sound(container)
    except av.error.FFmpegError as exc:
        raise ValueError(f"{path.name} is not a sound file FFmpeg can read ({exc.strerror or exc})") from None
    if audio is None:
        raise ValueError(f"{path.name} holds no sound track")
    return audio


def _read_sound(container: Any) -> dict | None:
    """The first sound stream FFmpeg can decode, as float planar at its own rate and layout."""
    av = _av()
    stream = next((s for s in container.streams.audio if s.codec_context is not None), None)
    if stream is None:
        return None
    container.seek(0)
    resampler = None
    parts: list[Any] = []
    rate = 0
    for frame in container.decode(stream):
        if resampler is None:
            rate = int(frame.sample_rate)
            resampler = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=rate)
        parts += [f.to_ndarray() for f in resampler.resample(frame)]
    if resampler is None:
        return None
    parts += [f.to_ndarray() for f in resampler.resample(None)]
    waveform = np.concatenate(parts, axis=1).astype(np.float32)
    return {"waveform": torch.from_numpy(waveform)[None], "sample_rate": rate}


def write_mp4(handle: BinaryIO, frames: Any, fps: Fraction, audio: dict | None, metadata: Mapping[str, str],
              eight_bit: Any, crf: float | None = None, check: Any = None) -> None:
    """An h264 / yuv420p mp4 of IMAGE `frames` at `fps`, with AAC `audio` when given.

    `eight_bit(frames[i:i+1])` makes one frame's uint8 array (the caller's rounding rule); the
    sound's first batch item is cut to the pictures' length, as ComfyUI writes it. The caller has
    checked sizes (even width and height) and channel counts (`LAYOUTS`)."""
    av = _av()
    count, height, width = int(frames.shape[0]), int(frames.shape[1]), int(frames.shape[2])
    try:
        _encode_mp4(av.open(handle, mode="w", format="mp4", options={"movflags": "use_metadata_tags"}), frames,
                    (count, height, width), fps, audio, metadata, eight_bit, crf, check)
    except av.error.FFmpegError as exc:
        raise ValueError(f"FFmpeg refused it ({exc.strerror or exc})") from None


def _encode_mp4(container: Any, frames: Any, size: tuple[int, int, int], fps: Fraction, audio: dict | None,
                metadata: Mapping[str, str], eight_bit: Any, crf: float | None, check: Any) -> None:
    av = _av()
    from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

    count, height, width = size
    try:
        for key, value in metadata.items():
            container.metadata[key] = value
        stream = container.add_stream("h264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if crf is not None:
            stream.options = {"crf": f"{crf:g}"}
        context = stream.codec_context
        context.color_primaries, context.color_trc = ColorPrimaries.BT709, ColorTrc.IEC61966_2_1
        context.colorspace, context.color_range = Colorspace.ITU709, ColorRange.MPEG
        sound = None
        if audio is not None:
            rate = int(audio["sample_rate"])
            waveform = audio["waveform"][0, :, :math.ceil(rate / fps * count)]
            sound = container.add_stream("aac", rate=rate, layout=LAYOUTS[int(waveform.shape[0])])
        for index in range(count):
            picture = av.VideoFrame.from_ndarray(eight_bit(frames[index:index + 1])[0], format="rgb24")
            picture = picture.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709)
            container.mux(stream.encode(picture))
            if check is not None:
                check()
        container.mux(stream.encode(None))
        if sound is not None:
            block = av.AudioFrame.from_ndarray(waveform.detach().cpu().float().contiguous().numpy(), format="fltp",
                                               layout=sound.layout.name)
            block.sample_rate, block.pts = sound.rate, 0
            container.mux(sound.encode(block))
            container.mux(sound.encode(None))
    finally:
        container.close()


def write_audio(handle: BinaryIO, waveform: Any, sample_rate: int, fmt: str, quality: str,
                metadata: Mapping[str, str]) -> None:
    """One sound ([channels, samples] float, mono or stereo) as a FLAC, MP3 or Opus file. Opus
    takes only some rates: others are resampled to the next one up (48 kHz above), as ComfyUI does."""
    av = _av()
    layout = LAYOUTS[int(waveform.shape[0])]
    rate = sample_rate
    if fmt == "opus" and rate not in OPUS_RATES:
        rate = next((r for r in OPUS_RATES if r > rate), 48000)
    try:
        _encode_audio(av.open(handle, mode="w", format=fmt), waveform, sample_rate, rate, layout, fmt, quality,
                      metadata)
    except av.error.FFmpegError as exc:
        raise ValueError(f"FFmpeg refused it ({exc.strerror or exc})") from None


def _encode_audio(container: Any, waveform: Any, sample_rate: int, rate: int, layout: str, fmt: str, quality: str,
                  metadata: Mapping[str, str]) -> None:
    av = _av()
    try:
        for key, value in metadata.items():
            container.metadata[key] = value
        codec = {"mp3": "libmp3lame", "opus": "libopus"}.get(fmt, fmt)
        stream = container.add_stream(codec, rate=rate, layout=layout)
        if quality == "V0":
            stream.codec_context.qscale = 1
        elif quality:
            stream.bit_rate = int(quality.rstrip("k")) * 1000
        block = av.AudioFrame.from_ndarray(waveform.detach().cpu().float().contiguous().numpy(), format="fltp",
                                           layout=layout)
        block.sample_rate, block.pts = sample_rate, 0
        blocks = [block]
        if rate != sample_rate:
            resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate)
            blocks = resampler.resample(block) + resampler.resample(None)
        for piece in blocks:
            container.mux(stream.encode(piece))
        container.mux(stream.encode(None))
    finally:
        container.close()


def resample(waveform: Any, sample_rate: int, rate: int) -> Any:
    """A waveform [batch, channels, samples] at `sample_rate` brought to `rate` with FFmpeg's
    resampler (libswresample), each batch item alone; channels and dtype kept."""
    av = _av()
    layout = LAYOUTS[int(waveform.shape[1])]
    items = []
    for item in waveform:
        block = av.AudioFrame.from_ndarray(item.detach().cpu().float().contiguous().numpy(), format="fltp",
                                           layout=layout)
        block.sample_rate, block.pts = sample_rate, 0
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        parts = [f.to_ndarray() for f in resampler.resample(block) + resampler.resample(None)]
        items.append(torch.from_numpy(np.concatenate(parts, axis=1).astype(np.float32)))
    length = min(int(part.shape[-1]) for part in items)
    return torch.stack([part[..., :length] for part in items]).to(waveform.dtype)
