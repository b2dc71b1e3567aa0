"""Sound nodes: Load Audio, Empty Audio, Trim Audio Duration, Audio Concat, Save Audio (ComfyUI's audio core).

AUDIO is ComfyUI's dict (`nodes.media.Audio`): a waveform [batch, channels, samples] and its rate.
"""

from __future__ import annotations

from functools import partial

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import AUDIO, FLOAT, INT, STRING
from nodes.media import audio_problem, make_audio

#: Load Audio refuses sound longer than this (three hours: 2 GB of float32 stereo at 48 kHz).
MAX_LOAD_SECONDS = 3 * 3600
#: Every quality Save Audio offers; each format takes some (`nodes._media_io.AUDIO_QUALITIES`).
QUALITIES = ("V0", "64k", "96k", "128k", "192k", "320k")


class LoadAudio(Node):
    type_id = "audio.load"
    title = "Load Audio"
    category = "audio"
    description = (
        "Reads the sound of a file in the input folder (mp3, flac, wav, ogg, opus, m4a, or a video's "
        f"sound track), as float samples at the file's own rate. Over {MAX_LOAD_SECONDS // 3600} hours is refused."
    )
    inputs = (Input("audio", STRING, default="", file="file", media="audio", help="The sound (or video) file."),)
    outputs = (Output("audio", AUDIO),)

    def run(self, ctx: RunContext, audio: str) -> tuple[dict]:
        from nodes._media_io import media_seconds, read_audio

        path = ctx.input_file(audio, "audio", "sound file")
        try:
            if (seconds := media_seconds(path)) > MAX_LOAD_SECONDS:
                raise ValueError(f"{path.name} lasts {seconds / 3600:.1f} hours, over the "
                                 f"{MAX_LOAD_SECONDS // 3600} allowed")
            return (read_audio(path),)
        except (OSError, ValueError) as exc:
            raise NodeError(str(exc), "audio") from None


class EmptyAudio(Node):
    type_id = "audio.empty"
    title = "Empty Audio"
    category = "audio"
    description = (f"Silence: `duration` seconds at `sample_rate`, mono or stereo (at most "
                   f"{MAX_LOAD_SECONDS // 3600} hours).")
    inputs = (
        Input("duration", FLOAT, default=60.0, min=0.0, max=float(MAX_LOAD_SECONDS), step=0.01, help="Seconds."),
        Input("sample_rate", INT, default=44100, min=1, max=192000),
        Input("channels", INT, default=2, min=1, max=2, help="1: mono, 2: stereo."),
    )
    outputs = (Output("audio", AUDIO),)

    def run(self, ctx: RunContext, duration: float, sample_rate: int, channels: int) -> tuple[dict]:
        import torch

        if not 0 <= duration <= MAX_LOAD_SECONDS:
            raise NodeError(f"{duration:g} s is outside 0 to {MAX_LOAD_SECONDS} s", "duration")
        return (make_audio(torch.zeros(1, int(channels), round(duration * sample_rate)), int(sample_rate)),)


class TrimAudioDuration(Node):
    type_id = "audio.trim"
    title = "Trim Audio Duration"
    category = "audio"
    description = ("Keeps `duration` seconds of the sound from `start_index` seconds on (negative: counted "
                   "from the end); the part past the end is simply not there.")
    inputs = (
        Input("audio", AUDIO),
        Input("start_index", FLOAT, default=0.0, min=-1e9, max=1e9, step=0.01,
              help="Start in seconds; negative counts from the end."),
        Input("duration", FLOAT, default=60.0, min=0.0, max=1e9, step=0.01, help="Length in seconds."),
    )
    outputs = (Output("audio", AUDIO),)

    def run(self, ctx: RunContext, audio: dict, start_index: float, duration: float) -> tuple[dict]:
        if (problem := audio_problem(audio)) is not None:
            raise NodeError(f"the sound {problem}", "audio")
        waveform, rate = audio["waveform"], int(audio["sample_rate"])
        length = int(waveform.shape[-1])
        start = round(start_index * rate) + (length if start_index < 0 else 0)
        start = max(0, min(start, length))
        end = max(0, min(start + round(duration * rate), length))
        if start >= end:
            raise NodeError(f"nothing is left: the sound lasts {length / rate:g} s and the part kept starts at "
                            f"{start / rate:g} s for {duration:g} s", "start_index" if duration > 0 else "duration")
        return ({"waveform": waveform[..., start:end], "sample_rate": rate},)


class AudioConcat(Node):
    type_id = "audio.concat"
    title = "Audio Concat"
    category = "audio"
    description = (
        "Plays audio2 after audio1 (or before it). As in ComfyUI, mono sound becomes stereo by doubling its "
        "channel, and the sound at the lower sample rate is resampled to the higher one (here with FFmpeg's "
        "resampler: ComfyUI uses torchaudio's, so resampled samples differ slightly)."
    )
    inputs = (
        Input("audio1", AUDIO),
        Input("audio2", AUDIO),
        Input("direction", STRING, default="after", choices=("after", "before"),
              help="Whether audio2 goes after or before audio1."),
    )
    outputs = (Output("audio", AUDIO),)

    def run(self, ctx: RunContext, audio1: dict, audio2: dict, direction: str = "after") -> tuple[dict]:
        import torch

        from nodes._media_io import resample

        for name, audio in (("audio1", audio1), ("audio2", audio2)):
            if (problem := audio_problem(audio)) is not None:
                raise NodeError(f"the sound {problem}", name)
        first, second = (audio1["waveform"], audio2["waveform"])
        first, second = (w.repeat(1, 2, 1) if w.shape[1] == 1 else w for w in (first, second))
        if first.shape[:2] != second.shape[:2]:
            raise NodeError(f"the sounds do not join: audio1 is {first.shape[0]} x {first.shape[1]} channels, "
                            f"audio2 {second.shape[0]} x {second.shape[1]} (batch x channels, mono counted "
                            "as stereo)", "audio2")
        rate1, rate2 = int(audio1["sample_rate"]), int(audio2["sample_rate"])
        rate = max(rate1, rate2)
        if rate1 < rate:
            first = resample(first, rate1, rate)
        if rate2 < rate:
            second = resample(second, rate2, rate)
        pair = (first, second) if direction == "after" else (second, first)
        return ({"waveform": torch.cat(pair, dim=2), "sample_rate": rate},)


class SaveAudio(Node):
    type_id = "audio.save"
    title = "Save Audio"
    category = "audio"
    description = (
        "Saves the sound as '<prefix>_<counter>.<format>' in the output folder (never overwriting), one "
        "file per batch item, mono or stereo, with the workflow in its tags. mp3 takes quality V0 "
        "(best variable rate), 128k or 320k; opus 64k to 320k (and a rate Opus takes: 8, 12, 16, 24 "
        "or 48 kHz, resampled up otherwise); flac is lossless and ignores quality."
    )
    is_output = True
    inputs = (
        Input("audio", AUDIO),
        Input("filename_prefix", STRING, default="audio/nodeflow", output_prefix=True),
        Input("format", STRING, default="flac", choices=("flac", "mp3", "opus")),
        Input("quality", STRING, default="128k", choices=QUALITIES, help="mp3: V0, 128k, 320k; opus: 64k to 320k."),
    )
    outputs = (Output("audio", AUDIO, help="The sound, unchanged (to use it further after saving)."),)

    def run(self, ctx: RunContext, audio: dict, filename_prefix: str, format: str = "flac",  # noqa: A002
            quality: str = "128k") -> tuple[dict]:
        from nodeflow.core.files import PNG_WORKFLOW_KEY
        from nodes._media_io import AUDIO_QUALITIES, write_audio

        if (problem := audio_problem(audio)) is not None:
            raise NodeError(f"the sound {problem}", "audio")
        if audio["waveform"].shape[1] > 2:
            raise NodeError(f"the sound has {audio['waveform'].shape[1]} channels; a sound file here is mono or "
                            "stereo", "audio")
        allowed = AUDIO_QUALITIES[format]
        if allowed and quality not in allowed:
            raise NodeError(f"{format} takes quality {', '.join(allowed)}, not {quality}", "quality")
        metadata = {PNG_WORKFLOW_KEY: ctx.workflow_json} if ctx.workflow_json else {}
        rate = int(audio["sample_rate"])
        for item in audio["waveform"]:
            write = partial(write_audio, waveform=item, sample_rate=rate, fmt=format,
                            quality=quality if allowed else "", metadata=metadata)
            try:
                path = ctx.write_output(filename_prefix, f".{format}", write)
            except ValueError as exc:
                raise NodeError(f"cannot encode the sound as {format}: {exc}", "audio") from None
            ctx.report(f"saved {path} ({item.shape[-1] / rate:g} s at {rate} Hz)")
        return (audio,)
