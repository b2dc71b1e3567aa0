"""LTX-2's latent and conditioning nodes, in ComfyUI's vocabulary: EmptyLTXVLatentVideo,
LTXVEmptyLatentAudio, LTXVConcatAVLatent, LTXVSeparateAVLatent, LTXVConditioning (guides: `nodes.ltx2.guides`).

The joint audio-video LATENT they make and take is described in `nodes.ltx2._av`.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CONDITIONING, FLOAT, INT, LATENT, VAE
from nodes.latent._sizes import snap_to_factor
from nodes.ltx2 import _av

_FRAME_RATE_HELP = ("Frames per second of the video. LTX-2 spaces its positions in time by it, and the "
                    "soundtrack's length follows from frames / frame rate.")


class EmptyLatentVideo(Node):
    type_id = "ltx2.empty_latent_video"
    title = "Empty LTXV Latent Video"
    category = "latent/ltx2"
    description = ("A blank LTX-2 video latent: 128 channels, the first frame alone and one latent frame "
                   "per 8 after it, 32x smaller in each side. Lengths of 8n + 1 frames use every latent frame.")
    inputs = (
        Input("width", INT, default=768, min=64, max=16384, step=32, help="Video width in pixels (a multiple of 32)."),
        Input("height", INT, default=512, min=64, max=16384, step=32,
              help="Video height in pixels (a multiple of 32)."),
        Input("length", INT, default=97, min=1, max=16384, step=8, help="Frames of video (8n + 1: 9, 17, ..., 97)."),
        Input("batch_size", INT, default=1, min=1, max=64),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, width: int, height: int, length: int, batch_size: int) -> tuple[dict]:
        import torch

        w = snap_to_factor(ctx, width, _av.SPACE_FACTOR, "width")
        h = snap_to_factor(ctx, height, _av.SPACE_FACTOR, "height")
        shape = (batch_size, _av.VIDEO_CHANNELS, _av.video_latent_frames(length), h // _av.SPACE_FACTOR,
                 w // _av.SPACE_FACTOR)
        return ({"samples": torch.zeros(shape), "downscale": _av.SPACE_FACTOR},)


def audio_vae_of(value: Any, field: str) -> Any:
    """The LTX-2 audio VAE on a VAE socket, or one line saying what to connect instead."""
    from nodes.values import AudioVae

    if not isinstance(value, AudioVae):
        raise NodeError("this needs LTX-2's audio VAE (Load LTXV Audio VAE), not a picture VAE", field)
    return value


class EmptyLatentAudio(Node):
    type_id = "ltx2.empty_latent_audio"
    title = "Empty LTXV Latent Audio"
    category = "latent/ltx2"
    description = ("A blank LTX-2 soundtrack latent as long as a video of `frames_number` frames at "
                   "`frame_rate` (the audio VAE's latent frames per second: 25 for LTX-2's).")
    inputs = (
        Input("frames_number", INT, default=97, min=1, max=1000, help="Frames of the video the sound goes with."),
        Input("frame_rate", FLOAT, default=25.0, min=1.0, max=1000.0, step=0.01, help=_FRAME_RATE_HELP),
        Input("batch_size", INT, default=1, min=1, max=64),
        Input("audio_vae", VAE, help="LTX-2's audio VAE (its channels and frequency bins shape the latent)."),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, frames_number: int, frame_rate: float, batch_size: int,
            audio_vae: Any) -> tuple[dict]:
        import torch

        vae = audio_vae_of(audio_vae, "audio_vae")
        shape = (batch_size, vae.latent_channels, vae.latent_frames(frames_number, frame_rate), vae.frequency_bins)
        return ({"samples": torch.zeros(shape), "type": "audio"},)


class ConcatAVLatent(Node):
    type_id = "ltx2.concat_av_latent"
    title = "Concat AV Latent"
    category = "latent/ltx2"
    description = ("Joins a video latent and a soundtrack latent into one, which LTX-2 samples together. "
                   "Given a joint latent as the video, it keeps that video and swaps in the new soundtrack "
                   "(trimmed or padded to the old one's length).")
    inputs = (Input("video_latent", LATENT), Input("audio_latent", LATENT))
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, video_latent: dict, audio_latent: dict) -> tuple[dict]:
        return (_av.join(video_latent, audio_latent),)


class SeparateAVLatent(Node):
    type_id = "ltx2.separate_av_latent"
    title = "Separate AV Latent"
    category = "latent/ltx2"
    description = "Splits a joint LTX-2 latent into its video latent and its soundtrack latent."
    inputs = (Input("av_latent", LATENT),)
    outputs = (Output("video_latent", LATENT), Output("audio_latent", LATENT))

    def run(self, ctx: RunContext, av_latent: dict) -> tuple[dict, dict]:
        return _av.split(av_latent, "av_latent")


class Conditioning(Node):
    type_id = "ltx2.conditioning"
    title = "LTXV Conditioning"
    category = "conditioning/ltx2"
    description = "Tells LTX-2 the frame rate of the video both prompts make. " + _FRAME_RATE_HELP
    inputs = (Input("positive", CONDITIONING), Input("negative", CONDITIONING),
              Input("frame_rate", FLOAT, default=25.0, min=0.0, max=1000.0, step=0.01, help=_FRAME_RATE_HELP))
    outputs = (Output("positive", CONDITIONING), Output("negative", CONDITIONING))

    def run(self, ctx: RunContext, positive: Any, negative: Any, frame_rate: float) -> tuple[Any, Any]:
        from nodes.values import Conditioning as Cond

        if frame_rate <= 0:
            raise NodeError("the frame rate must be above 0", "frame_rate")
        return tuple(Cond([e.with_(frame_rate=float(frame_rate)) for e in c.entries]) for c in (positive, negative))

