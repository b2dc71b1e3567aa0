"""Video, sound, the picture-batch nodes ComfyUI's video templates end with (CreateVideo ->
SaveVideo) and the latent cuts they use, with the converters for the values whose meaning NodeFlow
holds differently.

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`.
Widget orders are read off ComfyUI's definitions (comfy_extras/nodes_video.py, nodes_audio.py,
nodes_images.py, nodes_mask.py, nodes_latent.py, nodes_wan.py) and checked against the official
templates' saved values:

- CreateVideo saves [fps] (0.3.45), [fps, bit_depth] or [fps, bit_depth, color_space] (codec last,
  where saved): NodeFlow makes 8-bit sRGB videos, so "auto"/8, "sRGB" and codec "none" are what it
  does; anything else stays in to be reported as not carried over.
- SaveVideo's format and codec are dynamic combos whose nested choices save one value each after
  the prefix ([format, codec] before 0.4; [format, format.codec, codec] and, with an encoding mode,
  ["re-encode", crf] after): every choice NodeFlow's mp4/h264 writer is ("auto", "mp4", "h264")
  is taken, a re-encode's crf is carried, anything else (mkv, webm, av1) is reported.
- SaveAudioAdvanced's format is a dynamic combo: mp3 and opus add a quality widget, flac none.
- RecordAudio is Load Audio of the recording: ComfyUI's frontend uploads it to its temp folder and
  saves the name as "audio/recording-<time>.wav [temp]" (templates save ""); NodeFlow reads the file
  from the input folder, so the folder annotation is dropped and said.
- RebatchImages' overlap and merge_overlap_mode (newer ComfyUI) only act between several batches of a ComfyUI
  list; a NodeFlow link carries one batch (Rebatch Images refuses to split one), so they are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from nodeflow.interop.comfyui import convert
from nodeflow.interop.comfyui.classes.entry import SHOWN, UPLOAD, Entry, same

#: SaveVideo's nested choices after the prefix, named rest.0, rest.1, ... (at most six are saved).
_REST = tuple(f"rest{n}" for n in range(6))
#: The SaveVideo choices that mean what NodeFlow's Save Video writes (an h264 mp4).
_MP4_CHOICES = ("auto", "mp4", "h264")
#: A file name ComfyUI annotates with the folder it lives in: "name [temp]".
_ANNOTATED = re.compile(r"(?P<name>.+) \[(?P<folder>input|output|temp)\]")


def create_video_values(params: dict[str, Any], notes: convert.Notes) -> dict[str, Any]:
    """CreateVideo: 8-bit sRGB frames kept as pictures is what NodeFlow's VIDEO is; the choices
    that say so are dropped, others stay to be reported as not carried over."""
    params = dict(params)
    for name, same_as_nodeflow in (("bit_depth", ("auto", 8, "8")), ("color_space", ("sRGB",)),
                                   ("codec", ("none",))):
        if name in params and params[name] in same_as_nodeflow:
            del params[name]
    return params


def save_video_values(params: dict[str, Any], notes: convert.Notes) -> dict[str, Any]:
    """SaveVideo: auto/mp4/h264 become NodeFlow's mp4 and h264, a re-encode's crf is carried;
    frames are made 8-bit by truncation, as ComfyUI writes them."""
    params = dict(params)
    chosen = [params.pop(name) for name in [*(f"rest.{n}" for n in range(len(_REST))), "format.codec"]
              if name in params]
    if "re-encode" in chosen:
        at = chosen.index("re-encode")
        crf = chosen[at + 1] if at + 1 < len(chosen) else None
        if isinstance(crf, (int, float)) and not isinstance(crf, bool):
            params["crf"] = float(crf)
            del chosen[at:at + 2]
    for name, value in (("format", "mp4"), ("codec", "h264")):
        if params.get(name) in _MP4_CHOICES:
            params[name] = value
    leftover = [value for value in chosen if value not in _MP4_CHOICES]
    if leftover:
        params["encoding"] = leftover  # no NodeFlow parameter: reported as not carried over
    return convert.eight_bit(params, notes)


def save_video_export(params: dict[str, Any]) -> dict[str, Any]:
    """NodeFlow's mp4/h264 as ComfyUI's plain choices."""
    return params | {"format": "mp4", "codec": "h264"}


def recorded_audio_values(params: dict[str, Any], notes: convert.Notes) -> dict[str, Any]:
    """RecordAudio: the uploaded recording's name without ComfyUI's folder annotation; NodeFlow looks
    for it in the input folder."""
    params = dict(params)
    found = _ANNOTATED.fullmatch(params.get("audio") or "")
    if found:
        params["audio"] = found["name"]
        notes.note(f"the recording {found['name']} was in ComfyUI's {found['folder']} folder; NodeFlow reads it "
                   "from the input folder")
    return params


def rebatch_values(params: dict[str, Any], notes: convert.Notes) -> dict[str, Any]:
    """RebatchImages: overlap and its merge mode act only between the batches of a list (module docstring)."""
    return {k: v for k, v in params.items() if k not in ("overlap", "merge_overlap_mode")}


_SAVE_VIDEO_INPUTS = {"video": "video", "filename_prefix": "filename_prefix", "format": "format", "codec": "codec",
                      "format.codec": "format.codec"} | {name: f"rest.{name[4:]}" for name in _REST}
_SAVE_AUDIO = {"audio": "audio", "filename_prefix": "filename_prefix"}
_PAD_WIDGETS = ("target_width", "target_height", "padding_color", "interpolation")

VIDEO: tuple[Entry, ...] = (
    Entry("CreateVideo", "video.create", ("fps", "bit_depth", "color_space", "codec"),
          {"images": "images", "audio": "audio"} | same("fps", "bit_depth", "color_space", "codec"), ("video",),
          values=create_video_values),
    Entry("SaveVideo", "video.save", ("filename_prefix", "format", "codec", "rest*"), _SAVE_VIDEO_INPUTS, ("video",),
          values=save_video_values, export=save_video_export),
    Entry("GetVideoComponents", "video.components", (), {"video": "video"}, ("images", "audio", "fps", None, None)),
    Entry("LoadVideo", "video.load", ("file", UPLOAD), {"file": "file"}, ("video",)),
    Entry("Video Slice", "video.slice", ("start_time", "duration", "strict_duration"),
          {"video": "video"} | same("start_time", "duration", "strict_duration"), ("video",)),
    Entry("TrimVideoLatent", "latent.trim_video", ("trim_amount",), same("samples", "trim_amount"), ("latent",)),
    # latents cut and joined along x, y or frames (Qwen-Image Layered, Wan speech-to-video, Kandinsky 5)
    Entry("LatentCut", "latent.cut", ("dim", "index", "amount"), same("samples", "dim", "index", "amount"),
          ("latent",)),
    Entry("LatentCutToBatch", "latent.cut_to_batch", ("dim", "slice_size"), same("samples", "dim", "slice_size"),
          ("latent",)),
    Entry("LatentConcat", "latent.concat", ("dim",), same("samples1", "samples2", "dim"), ("latent",)),
    Entry("ReplaceVideoLatentFrames", "latent.replace_video_frames", ("index",),
          same("destination", "source", "index"), ("latent",)),
    # sound (Save Audio (Advanced) first: NodeFlow's Save Audio exports as it)
    Entry("SaveAudioAdvanced", "audio.save", ("filename_prefix", "format"),
          _SAVE_AUDIO | {"format": "format", "format.quality": "quality"}, ("audio",),
          variants=("format", {"flac": (), "mp3": ("format.quality",), "opus": ("format.quality",)})),
    Entry("LoadAudio", "audio.load", ("audio", SHOWN, SHOWN), {"audio": "audio"}, ("audio",)),
    Entry("RecordAudio", "audio.load", ("audio", SHOWN), {"audio": "audio"}, ("audio",), values=recorded_audio_values),
    Entry("AudioConcat", "audio.concat", ("direction",), same("audio1", "audio2", "direction"), ("audio",)),
    Entry("EmptyAudio", "audio.empty", ("duration", "sample_rate", "channels"),
          same("duration", "sample_rate", "channels"), ("audio",)),
    Entry("TrimAudioDuration", "audio.trim", ("start_index", "duration"),
          {"audio": "audio"} | same("start_index", "duration"), ("audio",)),
    Entry("SaveAudio", "audio.save", ("filename_prefix",), _SAVE_AUDIO, ("audio",), fixed={"format": "flac"}),
    Entry("SaveAudioMP3", "audio.save", ("filename_prefix", "quality"), _SAVE_AUDIO | same("quality"), ("audio",),
          fixed={"format": "mp3"}),
    Entry("SaveAudioOpus", "audio.save", ("filename_prefix", "quality"), _SAVE_AUDIO | same("quality"), ("audio",),
          fixed={"format": "opus"}),
    # picture batches
    Entry("EmptyImage", "image.empty", ("width", "height", "batch_size", "color"),
          same("width", "height", "batch_size", "color"), ("image",)),
    Entry("ImageFromBatch", "image.from_batch", ("batch_index", "length"),
          {"image": "image"} | same("batch_index", "length"), ("image",)),
    Entry("RepeatImageBatch", "image.repeat_batch", ("amount",), {"image": "image", "amount": "amount"}, ("image",)),
    Entry("SolidMask", "mask.solid", ("value", "width", "height"), same("value", "width", "height"), ("mask",)),
    Entry("RebatchImages", "image.rebatch", ("batch_size", "overlap", "merge_overlap_mode"),
          same("images", "batch_size", "overlap", "merge_overlap_mode"), ("image",), values=rebatch_values),
    Entry("ResizeAndPadImage", "image.resize_and_pad", _PAD_WIDGETS, same("image", *_PAD_WIDGETS), ("image",)),
)
