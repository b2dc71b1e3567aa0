"""Video nodes: Create Video, Get Video Components, Load Video, Video Slice, Save Video (ComfyUI's video core).

A VIDEO (`nodes.media.Video`) is frames + frame rate + optional sound; every check of a bad input
happens before anything is decoded or encoded, and names the node's field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.spec import MemoryNeed
from nodeflow.core.types import AUDIO, BOOLEAN, FLOAT, IMAGE, STRING, VIDEO
from nodes.media import Video, audio_problem, audio_seconds, frame_rate

#: Load Video refuses files with more frames than this (ComfyUI's largest picture batch) ...
MAX_LOAD_FRAMES = 4096
#: ... or frames larger than Load Image's picture budget (8192 x 8192).
MAX_FRAME_PIXELS = 8192 * 8192
#: Bytes each decoded pixel takes: an rgb24 copy while decoding and the float32 RGB frame.
LOAD_BYTES_PER_PIXEL = 15

_EIGHT_BIT_HELP = ("How float pixels become 8 bits: round (NodeFlow's own) or truncate (as ComfyUI writes "
                   "video frames; set on workflows imported from ComfyUI). They differ by at most one level.")


class CreateVideo(Node):
    type_id = "video.create"
    title = "Create Video"
    category = "video"
    description = "A VIDEO from pictures (one per frame) at a frame rate, with optional sound."
    inputs = (
        Input("images", IMAGE, help="The frames, in order (all one size: a picture batch)."),
        Input("fps", FLOAT, default=30.0, min=1.0, max=120.0, step=1.0, help="Frames per second."),
        Input("audio", AUDIO, optional=True, help="Sound to play with the pictures."),
    )
    outputs = (Output("video", VIDEO),)

    def run(self, ctx: RunContext, images: Any, fps: float, audio: Any = None) -> tuple[Video]:
        shape = tuple(getattr(images, "shape", ()))
        if len(shape) != 4 or shape[-1] < 3:
            raise NodeError(f"the frames are not a picture batch (shape {list(shape)})", "images")
        if shape[0] < 1:
            raise NodeError("the picture batch is empty: a video needs at least one frame", "images")
        try:
            rate = frame_rate(fps)
        except ValueError as exc:
            raise NodeError(str(exc), "fps") from None
        if audio is not None and (problem := audio_problem(audio)) is not None:
            raise NodeError(f"the sound {problem}", "audio")
        return (Video(images[..., :3], rate, audio),)


class GetVideoComponents(Node):
    type_id = "video.components"
    title = "Get Video Components"
    category = "video"
    description = "A VIDEO's frames (a picture batch), its sound (nothing when it has none) and its frame rate."
    inputs = (Input("video", VIDEO),)
    outputs = (Output("images", IMAGE), Output("audio", AUDIO), Output("fps", FLOAT))

    def run(self, ctx: RunContext, video: Video) -> tuple[Any, Any, float]:
        if not isinstance(video, Video):
            raise NodeError(f"expected a VIDEO, got {type(video).__name__}", "video")
        return video.images, video.audio, float(video.fps)


class LoadVideo(Node):
    type_id = "video.load"
    title = "Load Video"
    category = "video"
    description = (
        f"Reads a video file (mp4, webm, mkv, mov...) from the input folder: its frames, frame rate and "
        f"sound. Files over {MAX_LOAD_FRAMES} frames, with frames over {MAX_FRAME_PIXELS:,} pixels or "
        f"larger than the memory free are refused before decoding."
    )
    inputs = (Input("file", STRING, default="", file="file", media="video", help="The video file."),)
    outputs = (Output("video", VIDEO),)

    @classmethod
    def memory_needs(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[MemoryNeed]:
        """The decoded frames, from the file's header (nothing is decoded)."""
        from nodes._media_io import probe_video

        name = params.get("file")
        if not isinstance(name, str) or not name.strip():
            return []
        try:
            header = probe_video(resolve(name))
        except (OSError, ValueError):
            return []  # missing or unreadable files are reported by validation and by the node
        pixels = header.frames * header.width * header.height
        return [MemoryNeed(pixels * LOAD_BYTES_PER_PIXEL, "file",
                           f"{header.frames} frames of {header.width}x{header.height}", pixels=pixels)]

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        return FlowSize()  # the frames are sized from the file by `memory_needs`

    def run(self, ctx: RunContext, file: str) -> tuple[Video]:
        from nodes._media_io import probe_video, read_video

        path = ctx.input_file(file, "file", "video")
        try:
            header = probe_video(path)
            if header.frames > MAX_LOAD_FRAMES:
                raise ValueError(f"{path.name} has {header.frames} frames, over the {MAX_LOAD_FRAMES} allowed")
            if header.width * header.height > MAX_FRAME_PIXELS:
                raise ValueError(f"{path.name} is {header.width}x{header.height}, over the budget of "
                                 f"{MAX_FRAME_PIXELS:,} pixels a frame")
            images, rate, audio = read_video(path, MAX_LOAD_FRAMES, ctx.check_cancelled)
            return (Video(images, rate, audio),)
        except (OSError, ValueError) as exc:
            raise NodeError(str(exc), "file") from None


class VideoSlice(Node):
    type_id = "video.slice"
    title = "Video Slice"
    category = "video"
    description = (
        "Keeps `duration` seconds of a VIDEO from `start_time` on (negative: counted from the end; duration 0: "
        "to the end), as ComfyUI trims a video file: the frames whose time falls in the window, and the "
        "sound from start_time for as long. With strict_duration a window longer than what is left is refused."
    )
    inputs = (
        Input("video", VIDEO),
        Input("start_time", FLOAT, default=0.0, min=-1e5, max=1e5, step=0.001,
              help="Start in seconds; negative counts from the end."),
        Input("duration", FLOAT, default=0.0, min=0.0, max=1e9, step=0.001,
              help="Length in seconds, or 0 for the rest of the video."),
        Input("strict_duration", BOOLEAN, default=False,
              help="Refuse a duration longer than what is left after start_time (instead of keeping what is)."),
    )
    outputs = (Output("video", VIDEO),)

    def run(self, ctx: RunContext, video: Video, start_time: float, duration: float,
            strict_duration: bool = False) -> tuple[Video]:
        import math

        if not isinstance(video, Video):
            raise NodeError(f"expected a VIDEO, got {type(video).__name__}", "video")
        if duration < 0:
            raise NodeError(f"duration {duration:g} is negative; 0 keeps the rest of the video", "duration")
        seconds = video.seconds
        start = max(seconds + start_time, 0.0) if start_time < 0 else start_time
        left = seconds - start
        if strict_duration and duration > 0 and left < duration - 1e-6:
            raise NodeError(f"only {max(left, 0.0):g} s are left after {start:g} s of this {seconds:g} s video, "
                            f"not {duration:g} (strict_duration)", "duration")
        rate = float(video.fps)
        first = math.ceil(start * rate - 1e-6)  # frame i shows at i / fps: the first at or after start
        end = video.frame_count
        if duration > 0:
            end = min(end, math.ceil((start + duration) * rate - 1e-6))
        if first >= end:
            raise NodeError(f"no frame is left: the video lasts {seconds:g} s and the slice starts at {start:g} s",
                            "start_time")
        return (Video(video.images[first:end], video.fps, _sound_window(video.audio, start, duration)),)


def _sound_window(audio: Any, start: float, duration: float) -> Any:
    """The sound from `start` seconds for `duration` (0: to its end), cut at whole samples as ComfyUI
    cuts a file's sound; nothing when none of it is left."""
    if audio is None or start >= audio_seconds(audio):
        return None
    rate = int(audio["sample_rate"])
    begin = int(start * rate)
    stop = begin + int(duration * rate) if duration > 0 else None
    waveform = audio["waveform"][..., begin:stop]
    return {"waveform": waveform, "sample_rate": rate} if waveform.shape[-1] else None


class SaveVideo(Node):
    type_id = "video.save"
    title = "Save Video"
    category = "video"
    description = (
        "Saves a VIDEO as '<prefix>_<counter>.mp4' in the output folder (never overwriting): h264 in "
        "yuv420p, which needs an even width and height, with its sound as AAC. The file carries the "
        "workflow that made it; the output viewer shows its first frame."
    )
    is_output = True
    inputs = (
        Input("video", VIDEO),
        Input("filename_prefix", STRING, default="video/nodeflow", output_prefix=True),
        Input("format", STRING, default="mp4", choices=("mp4",), help="The container."),
        Input("codec", STRING, default="h264", choices=("h264",), help="The picture codec."),
        Input("crf", FLOAT, default=23.0, min=0.0, max=51.0, step=1.0,
              help="h264's constant rate factor: lower is better quality and larger files (23 is its default)."),
        Input("eight_bit", STRING, default="round", choices=("round", "truncate"), help=_EIGHT_BIT_HELP),
    )
    outputs = (Output("video", VIDEO, help="The video, unchanged (to use it further after saving)."),)

    def run(self, ctx: RunContext, video: Video, filename_prefix: str, format: str = "mp4",  # noqa: A002
            codec: str = "h264", crf: float = 23.0, eight_bit: str = "round") -> tuple[Video]:
        from nodeflow.core.files import MAX_PNG_WORKFLOW, PNG_WORKFLOW_KEY, SAVED_PATH_INFO
        from nodes._media_io import write_mp4
        from nodes._tensors import image_to_pils, image_to_uint8

        if not isinstance(video, Video):
            raise NodeError(f"expected a VIDEO, got {type(video).__name__}", "video")
        if video.width % 2 or video.height % 2:
            raise NodeError(f"h264 in yuv420p needs an even width and height; the video is {video.width}x"
                            f"{video.height}: scale or crop its frames to an even size first", "video")
        if video.audio is not None and (problem := audio_problem(video.audio)) is not None:
            raise NodeError(f"the video's sound {problem}", "video")
        metadata = {}
        if len(ctx.workflow_json.encode("utf-8")) > MAX_PNG_WORKFLOW:
            ctx.warn(f"the workflow is larger than {MAX_PNG_WORKFLOW // 2**20} MiB; the video is saved without it")
        elif ctx.workflow_json:
            metadata[PNG_WORKFLOW_KEY] = ctx.workflow_json
        write = partial(write_mp4, frames=video.images, fps=video.fps, audio=video.audio, metadata=metadata,
                        eight_bit=partial(image_to_uint8, eight_bit=eight_bit), crf=crf, check=ctx.check_cancelled)
        try:
            path = ctx.write_output(filename_prefix, ".mp4", write)
        except ValueError as exc:  # FFmpeg refusing what it was given (a sample rate AAC cannot take)
            raise NodeError(f"cannot encode the video: {exc}", "video") from None
        sound = f", sound {video.audio['sample_rate']} Hz" if video.audio is not None else ""
        ctx.report(f"saved {path} ({video.frame_count} frames of {video.width}x{video.height} at "
                   f"{float(video.fps):g} fps{sound})")
        first = image_to_pils(video.images[:1], eight_bit)[0]
        first.info[SAVED_PATH_INFO] = str(path)  # the output viewer shows the first frame and offers the file
        ctx.show_images([first])
        return (video,)
