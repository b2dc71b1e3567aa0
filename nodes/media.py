"""AUDIO and VIDEO, the sound and moving pictures that travel on links, and CLIP_VISION and
CLIP_VISION_OUTPUT, a picture encoder and what it saw: NodeFlow's plugin API for media, beside
`nodes.values` (plugins import `from nodes.media import Video, make_audio`).

AUDIO is a dict, as in ComfyUI, so a node ported from ComfyUI reads it unchanged:
  "waveform"     float tensor [batch, channels, samples], nominally in [-1, 1];
  "sample_rate"  int, samples per second.

VIDEO is a `Video`: the frames as an IMAGE batch [frames, H, W, 3] float in [0, 1] (what every
picture node already takes, so a video's frames go through them unchanged), the frame rate as an
exact `Fraction` (24, or 30000/1001 read from a file), and optional AUDIO that plays alongside.

CLIP_VISION is a `ClipVision`: a CLIP vision tower (transformers' CLIPVisionModel, or
CLIPVisionModelWithProjection where its file has the projection) and the picture size and pixel
statistics it was trained with. CLIP_VISION_OUTPUT is a `ClipVisionOutput`, the tower's reading of a
picture batch, with ComfyUI's field names (`nodes.vision`).

Checks here are shape checks only (no torch import): nodes turn the ValueError into an error naming
their own field.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypedDict

#: Sound channel counts a file can carry, by their FFmpeg layout name.
CHANNEL_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}
#: The frame rates a VIDEO may carry. Above 1000 no player keeps up and the muxer's time base
#: (1/1000 for rates typed as decimals) can no longer place the frames.
MAX_FPS = 1000


class Audio(TypedDict):
    """AUDIO: a waveform [batch, channels, samples] and its sample rate (see the module docstring)."""

    waveform: Any
    sample_rate: int


def make_audio(waveform: Any, sample_rate: int) -> Audio:
    """An AUDIO value, refusing shapes and rates nothing downstream could play."""
    shape = tuple(getattr(waveform, "shape", ()))
    if len(shape) != 3:
        raise ValueError(f"an audio waveform is [batch, channels, samples], got shape {list(shape)}")
    if shape[0] < 1 or shape[1] < 1:
        raise ValueError(f"an audio waveform needs at least one batch item and one channel, got {list(shape)}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"a sample rate is a positive whole number of samples per second, got {sample_rate!r}")
    return {"waveform": waveform, "sample_rate": sample_rate}


def audio_problem(audio: Any) -> str | None:
    """Why a value that came on an AUDIO link is not sound a file can carry, or None: for a node's
    one-line error ("the sound has 3 channels; ...")."""
    if not isinstance(audio, dict) or "waveform" not in audio or "sample_rate" not in audio:
        return "is not AUDIO (a waveform and a sample rate)"
    shape = tuple(getattr(audio["waveform"], "shape", ()))
    if len(shape) != 3 or shape[0] < 1:
        return f"has a waveform of shape {list(shape)}, not [batch, channels, samples]"
    if shape[1] not in CHANNEL_LAYOUTS:
        return f"has {shape[1]} channels; a file carries {', '.join(map(str, CHANNEL_LAYOUTS))}"
    if shape[2] < 1:
        return "holds no samples"
    rate = audio["sample_rate"]
    if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
        return f"has a sample rate of {rate!r}, not a positive whole number"
    return None


def audio_seconds(audio: Audio) -> float:
    """How long the sound lasts."""
    return int(audio["waveform"].shape[-1]) / int(audio["sample_rate"])


def frame_rate(fps: float | int | Fraction) -> Fraction:
    """`fps` as the exact rate a VIDEO carries. A Fraction (read from a file) is kept; a number typed
    as a decimal is taken to the nearest 1/1000, as ComfyUI writes it (23.976 -> 2997/125)."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float, Fraction)):
        raise ValueError(f"a frame rate is a number, got {fps!r}")
    rate = fps if isinstance(fps, Fraction) else Fraction(round(float(fps) * 1000), 1000)
    if not 0 < rate <= MAX_FPS:
        raise ValueError(f"the frame rate must be above 0 and at most {MAX_FPS} frames per second, got {float(fps):g}")
    return rate


@dataclass(frozen=True, eq=False)
class Video:
    """VIDEO: frames, frame rate and optional sound (see the module docstring)."""

    #: IMAGE [frames, H, W, 3] float in [0, 1].
    images: Any
    #: Frames per second, exact (`frame_rate` makes one from a typed number).
    fps: Fraction
    audio: Audio | None = None

    def __post_init__(self) -> None:
        shape = tuple(getattr(self.images, "shape", ()))
        if len(shape) != 4 or shape[-1] != 3:
            raise ValueError(f"a video's frames are an IMAGE batch [frames, H, W, 3], got shape {list(shape)}")
        if shape[0] < 1:
            raise ValueError("a video needs at least one frame, got an empty batch")
        object.__setattr__(self, "fps", frame_rate(self.fps))

    @property
    def frame_count(self) -> int:
        return int(self.images.shape[0])

    @property
    def width(self) -> int:
        return int(self.images.shape[2])

    @property
    def height(self) -> int:
        return int(self.images.shape[1])

    @property
    def seconds(self) -> float:
        """How long the pictures last (the sound may be longer or shorter)."""
        return float(self.frame_count / self.fps)


@dataclass(eq=False)
class ClipVision:
    """CLIP_VISION: a CLIP vision tower (see the module docstring); `model` in a field of its own,
    where the memory manager finds it to count, move and free it like any other model part."""

    model: Any
    #: The square picture side the tower reads (224 for CLIP ViT-L/H/bigG).
    image_size: int
    #: Per-channel pixel mean and deviation the tower was trained with (OpenAI CLIP's).
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


@dataclass(eq=False)
class ClipVisionOutput:
    """CLIP_VISION_OUTPUT: what a CLIP vision tower made of a picture batch, [batch, ...] each.

    `penultimate_hidden_states` [B, tokens, width] are the states after the tower's second-to-last
    layer (what Wan 2.1's image embedder reads); `last_hidden_state` after the last; `image_embeds`
    [B, projection] the class token after the final norm and the projection (None for a tower
    without one)."""

    last_hidden_state: Any
    penultimate_hidden_states: Any
    image_embeds: Any = None
