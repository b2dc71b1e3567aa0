"""LTX-2's guide frames, in ComfyUI's vocabulary: LTXVAddGuide and LTXVCropGuides.

A guide is a picture (or a short clip at the start) the video should pass through at a frame. It is
encoded with the video VAE and appended after the video's latent frames, its noise mask 1 - strength
(LTX-2 keeps masked frames clean, `Family.mask_keeps_clean`), and the prompts record where it stands:
`Guides` (`nodes.ltx2._guides`) in the conditioning entries' `extra`, one (pixel frame, latent frames) per guide, in the
order appended. The transformer gives the appended tokens the rotary positions of that frame instead
of their place at the end (`nodes.ltx2._adapter`), as ComfyUI's keyframe positions do. LTXV Crop Guides
drops the appended frames after sampling and clears the record.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CONDITIONING, FLOAT, IMAGE, INT, LATENT, VAE
from nodes.ltx2 import _av
from nodes.ltx2._guides import Guides, guides_of


def _with_guides(conditioning: Any, guides: Guides | None) -> Any:
    from nodes.values import Conditioning

    return Conditioning([e.with_(extra=guides) for e in conditioning.entries])


def guide_frame(frame_idx: int, video_latent_frames: int, pictures: int) -> int:
    """ComfyUI's frame placement: a negative index counts back from the video's last pixel frame
    (-1 is the last); a clip of several pictures may only start at frame 0."""
    last = (video_latent_frames - 1) * _av.TIME_FACTOR
    frame = frame_idx if frame_idx >= 0 else max(last + 1 + frame_idx, 0)
    if pictures > 1 and frame != 0:
        raise NodeError(f"a guide of {pictures} pictures can only start at frame 0 here (asked: {frame_idx}); "
                        "guide later frames with one picture each", "frame_idx")
    if frame > last:
        raise NodeError(f"frame {frame_idx} is past the video's last frame ({last})", "frame_idx")
    return frame


class AddGuide(Node):
    type_id = "ltx2.add_guide"
    title = "LTXV Add Guide"
    category = "conditioning/ltx2"
    description = ("Guides the video through a picture at a frame (ComfyUI's LTXVAddGuide): the picture is encoded "
                   "with the video VAE and appended to the latent, held by the noise mask (1 - strength), and the "
                   "model sees it at that frame's place in time. Chain one per guide (first and last frame: 0 and "
                   "-1); LTXV Crop Guides removes the appended frames after sampling.")
    inputs = (
        Input("positive", CONDITIONING), Input("negative", CONDITIONING), Input("vae", VAE), Input("latent", LATENT),
        Input("image", IMAGE, help="The picture (or, at frame 0, a clip of 8n + 1 pictures; extra ones are dropped)."),
        Input("frame_idx", INT, default=0, min=-9999, max=9999,
              help="The frame the guide stands at; negative counts from the end (-1: the last frame)."),
        Input("strength", FLOAT, default=1.0, min=0.0, max=10.0, step=0.01,
              help="How firmly the guide is kept: 1 as given, 0 not at all (above 1 keeps it as 1 does here)."),
    )
    outputs = (Output("positive", CONDITIONING), Output("negative", CONDITIONING), Output("latent", LATENT))

    def run(self, ctx: RunContext, positive: Any, negative: Any, vae: Any, latent: dict, image: Any,
            frame_idx: int, strength: float) -> tuple[Any, Any, dict]:
        import torch

        from nodes.ltx2.image import encode_frames

        if _av.is_av(latent):
            raise NodeError("add guides to the video latent before joining its soundtrack (LTXV Concat AV Latent)",
                            "latent")
        samples = latent["samples"]
        guides = guides_of(positive)
        video_frames = samples.shape[2] - guides.latent_frames
        pictures = (image.shape[0] - 1) // _av.TIME_FACTOR * _av.TIME_FACTOR + 1
        frame = guide_frame(frame_idx, video_frames, pictures)
        frames = encode_frames(vae, image[:pictures], samples).to(samples.dtype)
        if (frame + _av.TIME_FACTOR - 1) // _av.TIME_FACTOR + frames.shape[2] > video_frames:
            raise NodeError(f"{pictures} pictures at frame {frame} run past the video's end", "image")
        mask = _av.noise_mask(latent)
        held = torch.full(mask.shape[:2] + (frames.shape[2],) + mask.shape[3:], max(0.0, 1.0 - float(strength)),
                          dtype=mask.dtype, device=mask.device)
        placed = Guides(guides.placed + ((frame, frames.shape[2]),))
        out = {**latent, "samples": torch.cat([samples, frames.expand(samples.shape[0], -1, -1, -1, -1)], dim=2),
               "noise_mask": torch.cat([mask, held], dim=2)}
        return _with_guides(positive, placed), _with_guides(negative, placed), out


class CropGuides(Node):
    type_id = "ltx2.crop_guides"
    title = "LTXV Crop Guides"
    category = "conditioning/ltx2"
    description = ("After sampling, drops the guide frames LTXV Add Guide appended to the end of the video latent "
                   "(as many as the positive prompt records) and clears the record from both prompts; a latent "
                   "without guides passes with its noise mask made explicit.")
    inputs = (Input("positive", CONDITIONING), Input("negative", CONDITIONING), Input("latent", LATENT))
    outputs = (Output("positive", CONDITIONING), Output("negative", CONDITIONING), Output("latent", LATENT))

    def run(self, ctx: RunContext, positive: Any, negative: Any, latent: dict) -> tuple[Any, Any, dict]:
        samples = latent["samples"]
        if samples.dim() != 5:
            raise NodeError(f"this needs a video latent [batch, channels, frames, height, width]; this one is "
                            f"{tuple(samples.shape)}", "latent")
        mask, count = _av.noise_mask(latent), guides_of(positive).latent_frames
        if count == 0:
            return positive, negative, latent | {"samples": samples.clone(), "noise_mask": mask}
        if count >= samples.shape[2]:
            raise NodeError(f"the prompts record {count} guide frames, the latent has only {samples.shape[2]}",
                            "latent")
        out = latent | {"samples": samples[:, :, :-count].clone(), "noise_mask": mask[:, :, :-count]}
        return _with_guides(positive, None), _with_guides(negative, None), out
