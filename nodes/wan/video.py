"""Wan's image-to-video nodes, in ComfyUI's vocabulary: Wan Image To Video (WanImageToVideo), Wan
First-Last Frame To Video (WanFirstLastFrameToVideo) and Wan 2.2 Image To Video Latent
(Wan22ImageToVideoLatent, Wan 2.2 5B's: the start picture in the latent, kept by its noise mask).

Each gives the prompts the picture condition an image-to-video transformer reads beside its latents
(`nodes.wan._condition`) and a blank video latent to sample. Wan 2.2 14B's image-to-video pair (a
high-noise and a low-noise transformer) samples it with two KSampler (Advanced) nodes over one schedule,
the first ending with its leftover noise where the second begins, as WanImageToVideoPipeline's
boundary_ratio hands over from `transformer` to `transformer_2`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.types import CLIP_VISION_OUTPUT, CONDITIONING, IMAGE, INT, LATENT, VAE

_SIZE_HELP = "Frame {} in pixels (a multiple of 16: 8x the VAE, 2x2 latent cells per token)."
_LENGTH_HELP = "Frames of video: 1, 5, 9, ... (4k + 1; the VAE takes the first alone, then 4 at a time)."


def _video_inputs(default_length: int = 81) -> tuple[Input, ...]:
    return (
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING),
        Input("vae", VAE, help="The Wan VAE (Wan 2.1's, which Wan 2.2 14B uses too)."),
        Input("width", INT, default=832, min=16, max=16384, step=16, help=_SIZE_HELP.format("width")),
        Input("height", INT, default=480, min=16, max=16384, step=16, help=_SIZE_HELP.format("height")),
        Input("length", INT, default=default_length, min=1, max=16384, step=4, help=_LENGTH_HELP),
        Input("batch_size", INT, default=1, min=1, max=64, help="How many videos to make at once."),
    )


_OUTPUTS = (Output("positive", CONDITIONING), Output("negative", CONDITIONING), Output("latent", LATENT))


class _VideoStart(Node):
    """What both nodes share: the size of what they put out, for the memory plan."""

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        """batch_size x length frames of width x height (the latent, and the guide video the prompts
        carry), with the prompts' tokens."""
        width, height, length, batch = (params.get(k) for k in ("width", "height", "length", "batch_size"))
        tokens = max((s.tokens for s in sizes.values()), default=0)
        if not all(isinstance(v, int) for v in (width, height, length, batch)):
            return FlowSize(tokens=tokens)
        return FlowSize(batch * length, width * height, tokens, field="length")


def _checked(vae: Any, width: int, height: int, length: int) -> None:
    """One line before any encoding when the VAE or a size cannot make this video."""
    from nodes.latent._frames import require_length
    from nodes.latent.video import require_sizes
    from nodes.wan._condition import TEMPORAL

    if vae.temporal != TEMPORAL:
        raise NodeError("this needs the Wan VAE (a video VAE folding 4 frames into a latent frame); load the "
                        "VAE of the Wan model", "vae")
    require_sizes(int(width), int(height), vae.scale_factor)
    require_length(int(length), TEMPORAL)


def _fitted(image: Any, width: int, height: int, length: int, last: bool = False) -> Any:
    """A picture batch as frames of the video: at most `length` of them (the first, or for an end the
    last), resized to the frame size (bilinear, centre crop, as ComfyUI's node fits them)."""
    from nodes.image._resize import fit_image

    frames = image[-length:] if last else image[:length]
    return fit_image(frames[..., :3], int(height), int(width))


def _outputs(vae: Any, positive: Any, negative: Any, batch_size: int, length: int, width: int, height: int,
             concat: Any, seen: Any = None) -> tuple[Any, Any, dict]:
    import torch

    from nodes.latent._frames import latent_frames
    from nodes.values import Conditioning

    factor = vae.scale_factor
    samples = torch.zeros((int(batch_size), vae.latent_channels, latent_frames(int(length), vae.temporal),
                           int(height) // factor, int(width) // factor))
    latent = {"samples": samples, "downscale": factor}
    if concat is None and seen is None:
        return positive, negative, latent
    changes = {"concat": concat} if concat is not None else {}
    if seen is not None:
        changes["extra"] = seen

    def carry(cond: Any) -> Any:
        return Conditioning([e.with_(**changes) for e in cond.entries])

    return carry(positive), carry(negative), latent


class WanImageToVideo(_VideoStart):
    type_id = "wan.image_to_video"
    title = "Wan Image To Video"
    category = "conditioning/video"
    description = (
        "Starts a Wan image-to-video run (Wan 2.2 14B i2v): the prompts carry the start picture(s), padded "
        "with grey frames to the video's length and encoded by the Wan VAE, with a mask of the frames they "
        "fix; the latent is a blank video to sample. Pictures of another size are resized (bilinear, "
        "centre crop). ref_pad_image fills the padding frames with a picture instead of grey. Wan 2.1's "
        "image-to-video models also read the start picture through CLIP vision (clip_vision_output, from "
        "CLIP Vision Encode). With WanImageToVideoPipeline's settings the frames are the pipeline's."
    )
    inputs = (
        *_video_inputs(),
        Input("start_image", IMAGE, optional=True,
              help="The first frame(s) of the video (a batch: that many frames)."),
        Input("ref_pad_image", IMAGE, optional=True,
              help="A picture the padding frames show instead of grey (anchors identity without fixing frames)."),
        Input("clip_vision_output", CLIP_VISION_OUTPUT, optional=True,
              help="The start picture as CLIP vision saw it (CLIP Vision Encode): Wan 2.1's image-to-video "
                   "models read it; Wan 2.2's ignore it."),
    )
    outputs = _OUTPUTS

    def run(self, ctx: RunContext, positive: Any, negative: Any, vae: Any, width: int, height: int, length: int,
            batch_size: int, start_image: Any = None, ref_pad_image: Any = None,
            clip_vision_output: Any = None) -> tuple[Any, Any, dict]:
        from nodes.latent._frames import latent_frames
        from nodes.wan import _condition

        _checked(vae, width, height, length)
        concat = None
        if start_image is not None:
            start = _fitted(start_image, width, height, length)
            pad = None if ref_pad_image is None else _fitted(ref_pad_image[:1], width, height, 1)
            frames = _condition.guide_video(int(length), int(height), int(width), start=start, pad=pad)
            known = _condition.known_entries(latent_frames(int(length), vae.temporal), start.shape[0], 0, whole=True)
            concat = _condition.condition(vae, frames, known)
        return _outputs(vae, positive, negative, batch_size, length, width, height, concat, clip_vision_output)


class WanFirstLastFrameToVideo(_VideoStart):
    type_id = "wan.first_last_frame_to_video"
    title = "Wan First-Last Frame To Video"
    category = "conditioning/video"
    description = (
        "Starts a Wan image-to-video run that goes from a start picture to an end picture: the prompts "
        "carry both in place in a grey video of the run's length, encoded by the Wan VAE, with a mask of "
        "the frames they fix; the latent is a blank video to sample. Either picture may be left out. Wan "
        "2.1's first-last-frame model also reads both pictures through CLIP vision (their CLIP Vision Encode "
        "outputs, joined start first). With WanImageToVideoPipeline's settings (its last_image) the frames "
        "are the pipeline's."
    )
    inputs = (
        *_video_inputs(),
        Input("start_image", IMAGE, optional=True, help="The first frame(s) of the video."),
        Input("end_image", IMAGE, optional=True, help="The last frame(s) of the video."),
        Input("clip_vision_start_image", CLIP_VISION_OUTPUT, optional=True,
              help="The start picture as CLIP vision saw it (Wan 2.1's first-last-frame model reads it)."),
        Input("clip_vision_end_image", CLIP_VISION_OUTPUT, optional=True,
              help="The end picture as CLIP vision saw it."),
    )
    outputs = _OUTPUTS

    def run(self, ctx: RunContext, positive: Any, negative: Any, vae: Any, width: int, height: int, length: int,
            batch_size: int, start_image: Any = None, end_image: Any = None, clip_vision_start_image: Any = None,
            clip_vision_end_image: Any = None) -> tuple[Any, Any, dict]:
        from nodes.latent._frames import latent_frames
        from nodes.wan import _condition

        _checked(vae, width, height, length)
        start = None if start_image is None else _fitted(start_image, width, height, length)
        end = None if end_image is None else _fitted(end_image, width, height, length, last=True)
        frames = _condition.guide_video(int(length), int(height), int(width), start=start, end=end)
        known = _condition.known_entries(latent_frames(int(length), vae.temporal),
                                         0 if start is None else start.shape[0], 0 if end is None else end.shape[0],
                                         whole=False)
        concat = _condition.condition(vae, frames, known)
        seen = _joined(clip_vision_start_image, clip_vision_end_image)
        return _outputs(vae, positive, negative, batch_size, length, width, height, concat, seen)


def _joined(start: Any, end: Any) -> Any:
    """What CLIP vision saw of the start and end pictures as one output: their penultimate states one
    after the other on the token axis (as ComfyUI's node joins them), or the one given."""
    if start is None or end is None:
        return start if end is None else end
    import torch

    from nodes.media import ClipVisionOutput

    states = torch.cat([start.penultimate_hidden_states, end.penultimate_hidden_states], dim=-2)
    return ClipVisionOutput(last_hidden_state=None, penultimate_hidden_states=states)


class Wan22ImageToVideoLatent(Node):
    type_id = "wan.image_to_video_latent"
    title = "Wan 2.2 Image To Video Latent"
    category = "latent/video"
    description = (
        "The video latent of Wan 2.2 5B (TI2V), which makes videos from text alone or from a start picture: "
        "blank, or with the start picture(s) encoded into its first latent frames and a noise mask that keeps "
        "them (the model keeps them clean and is told they are done). Needs the Wan 2.2 VAE (48 channels, "
        "16x: width and height multiples of 32). With WanImageToVideoPipeline's settings (expand_timesteps) "
        "the frames are the pipeline's."
    )
    inputs = (
        Input("vae", VAE, help="The Wan 2.2 VAE."),
        Input("width", INT, default=1280, min=32, max=16384, step=32, help="Frame width in pixels (a multiple of 32)."),
        Input("height", INT, default=704, min=32, max=16384, step=32,
              help="Frame height in pixels (a multiple of 32)."),
        Input("length", INT, default=49, min=1, max=16384, step=4, help=_LENGTH_HELP),
        Input("batch_size", INT, default=1, min=1, max=64, help="How many videos to make at once."),
        Input("start_image", IMAGE, optional=True, help="The first frame(s) of the video (a batch: that many)."),
    )
    outputs = (Output("latent", LATENT),)

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        return _VideoStart.output_size(params, {})

    def run(self, ctx: RunContext, vae: Any, width: int, height: int, length: int, batch_size: int,
            start_image: Any = None) -> tuple[dict]:
        import torch

        from nodes.latent._frames import latent_frames
        from nodes.vae.codec import encode

        _checked(vae, width, height, length)
        factor, batch = vae.scale_factor, int(batch_size)
        samples = torch.zeros((1, vae.latent_channels, latent_frames(int(length), vae.temporal),
                               int(height) // factor, int(width) // factor))
        latent: dict[str, Any] = {"downscale": factor}
        if start_image is not None:
            kept = encode(ctx, _fitted(start_image, width, height, length), vae)["samples"].float().cpu()
            frames = min(kept.shape[2], samples.shape[2])
            samples[:, :, :frames] = kept[:, :, :frames]
            mask = torch.ones((1, 1, *samples.shape[2:]))
            mask[:, :, :frames] = 0.0
            latent["noise_mask"] = mask.repeat(batch, 1, 1, 1, 1)
        latent["samples"] = samples.repeat(batch, 1, 1, 1, 1)
        return (latent,)
