"""MiniMax H3's nodes, in ComfyUI's vocabulary: MiniMaxH3ImageToVideo (text-to-video and first / last
frame video, with the soundtrack), MiniMaxH3ReferenceToVideo (a video drawn from reference pictures),
MiniMaxH3AddGuide (a picture held at any frame) and MiniMaxH3SigmaShift (the two schedules' shifts).

They make what the family's sampling reads (`nodes.minimax_h3._adapter`): a LATENT with the video in
"samples" [1, 24, latent frames, h, w] and the soundtrack in "audio_samples" [1, 32, 2, audio frames],
and a prompt whose `CondEntry.extra` carries the modality tags and the keyframes (`Prompt`).
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import AUDIO, CLIP, CONDITIONING, FLOAT, IMAGE, INT, LATENT, MODEL, STRING, VAE
from nodes.families import by_name

FAMILY = "minimax-h3"
#: Pixels per side a video's size is a multiple of: 16x VAE cells, packed 2x2.
SIDE_STEP = 32
_LENGTH_HELP = ("Frames at 24 per second, snapped up to the model's 17k + 5 grid (the video VAE's chunks): "
                "124 is about 5 s.")


def _clip_of(clip: Any) -> Any:
    if getattr(clip, "family", "") != FAMILY:
        raise NodeError("this needs MiniMax H3's text encoder (Load CLIP with type minimax)", "clip")
    return clip


def _vae_of(vae: Any, field: str = "vae") -> Any:
    if getattr(vae, "family", "") != FAMILY:
        raise NodeError("this needs MiniMax H3's video VAE", field)
    return vae


def _pictures(image: Any, width: int, height: int, crop: str) -> Any:
    """The first picture of a batch at the video's size: stretched ("disabled") or cover-cropped
    ("center"), Lanczos, as ComfyUI's H3 nodes fit keyframes."""
    from nodes.image._resize import scale_image

    return scale_image(image[:1, ..., :3], width, height, "lanczos", crop)


def _pil(picture: Any) -> Any:
    from nodes._tensors import image_to_pils

    return image_to_pils(picture)[0]


class ImageToVideo(Node):
    type_id = "minimax_h3.image_to_video"
    title = "MiniMax H3 Image to Video"
    category = "conditioning/minimax_h3"
    description = ("The prompt and the blank video + soundtrack latent of a MiniMax H3 run: text to video, or "
                   "a video that starts at first_frame and/or ends at last_frame. The keyframes are shown to "
                   "the text encoder as <Picture 1>, <Picture 2> before the prompt and held in the video.")
    inputs = (
        Input("clip", CLIP),
        Input("vae", VAE, help="MiniMax H3's video VAE (encodes the keyframes)."),
        Input("prompt", STRING, default="", multiline=True),
        Input("width", INT, default=1344, min=SIDE_STEP, max=16384, step=SIDE_STEP),
        Input("height", INT, default=768, min=SIDE_STEP, max=16384, step=SIDE_STEP),
        Input("length", INT, default=124, min=5, max=3600, step=17, help=_LENGTH_HELP),
        Input("first_frame", IMAGE, optional=True),
        Input("last_frame", IMAGE, optional=True),
    )
    outputs = (Output("positive", CONDITIONING), Output("latent", LATENT))

    def run(self, ctx: RunContext, clip: Any, vae: Any, prompt: str, width: int, height: int, length: int,
            first_frame: Any = None, last_frame: Any = None) -> tuple[Any, dict]:
        from nodes.latent._sizes import snap_to_factor
        from nodes.minimax_h3 import _adapter as ad

        _clip_of(clip)
        if first_frame is not None or last_frame is not None:
            _vae_of(vae)
        width = snap_to_factor(ctx, int(width), SIDE_STEP, "width")
        height = snap_to_factor(ctx, int(height), SIDE_STEP, "height")
        frames, latent_frames, audio_frames = ad.frame_counts(int(length))
        pictures, places = [], []
        if first_frame is not None:
            pictures.append(_pictures(first_frame, width, height, "disabled"))
            places.append(0)
        if last_frame is not None:
            pictures.append(_pictures(last_frame, width, height, "center"))
            places.append(frames - 1)
        entry = _encode(clip, prompt, pictures)
        guides = tuple(ad.Guide(p, ad.keyframe_latents(vae, picture)) for p, picture in zip(places, pictures,
                                                                                             strict=True))
        return _conditioning(entry, guides), _latent(latent_frames, audio_frames, width, height)


def _encode(clip: Any, prompt: str, pictures: list[Any]) -> Any:
    """The prompt's CondEntry: Qwen3-VL's layer-50 states with the pictures shown before it."""
    from nodes.minimax_h3 import _adapter as ad
    from nodes.qwen_image21._prompt import processor_for
    from nodes.values import CondEntry

    tokenizer, encoder = clip.part(clip.spec.encoders[0].part)
    processor = processor_for(tokenizer) if pictures else None
    states, tags = ad.prompt_states(tokenizer, encoder, prompt, clip.device, tuple(_pil(p) for p in pictures),
                                    processor)
    return CondEntry(embeds=states.to(dtype=encoder.dtype), text=prompt, extra=ad.Prompt(tags))


def _conditioning(entry: Any, guides: tuple[Any, ...]) -> Any:
    from nodes.minimax_h3 import _adapter as ad
    from nodes.values import Conditioning

    return Conditioning([entry.with_(extra=ad.Prompt(entry.extra.tags, entry.extra.guides + guides,
                                                     entry.extra.references))])


def _latent(latent_frames: int, audio_frames: int, width: int, height: int) -> dict:
    import torch

    from nodes.minimax_h3 import _adapter as ad

    spec = by_name(FAMILY)
    factor = spec.latent.downscale
    video = torch.zeros(1, spec.latent.channels, latent_frames, height // factor, width // factor)
    return {"samples": video, "audio_samples": torch.zeros(1, 32, ad.AUDIO_CHANNELS, audio_frames),
            "downscale": factor}


#: ComfyUI's reference slots: pictures, videos, the videos' soundtracks, soundtracks alone.
REFERENCE_SLOTS = (("ref_image", 9), ("ref_video", 3), ("ref_video_audio", 3), ("ref_audio", 3))


class ReferenceToVideo(Node):
    type_id = "minimax_h3.reference_to_video"
    title = "MiniMax H3 Reference to Video"
    category = "conditioning/minimax_h3"
    description = ("The prompt and the blank video + soundtrack latent of a MiniMax H3 video drawn from reference "
                   "pictures, which the prompt names <Picture 1>, <Picture 2>, ... in slot order. Each picture is "
                   "scaled down (never up) to the video's pixel area (match) or to a 2048 short side (max).")
    inputs = (
        Input("clip", CLIP),
        Input("vae", VAE, optional=True, help="MiniMax H3's video VAE (encodes the reference pictures)."),
        Input("audio_vae", VAE, optional=True, help="MiniMax H3's audio VAE (for reference soundtracks)."),
        Input("prompt", STRING, default="", multiline=True),
        Input("width", INT, default=1344, min=SIDE_STEP, max=16384, step=SIDE_STEP),
        Input("height", INT, default=768, min=SIDE_STEP, max=16384, step=SIDE_STEP),
        Input("length", INT, default=124, min=5, max=3600, step=17, help=_LENGTH_HELP),
        Input("ref_image_size", STRING, default="match", choices=("match", "max")),
        *(Input(f"{name}_{n}", AUDIO if "audio" in name else IMAGE, optional=True)
          for name, count in REFERENCE_SLOTS for n in range(count)),
    )
    outputs = (Output("positive", CONDITIONING), Output("latent", LATENT))

    def run(self, ctx: RunContext, clip: Any, prompt: str, width: int, height: int, length: int,
            ref_image_size: str, vae: Any = None, audio_vae: Any = None, **slots: Any) -> tuple[Any, dict]:
        from nodes.latent._sizes import snap_to_factor
        from nodes.minimax_h3 import _adapter as ad
        from nodes.minimax_h3 import _references as refs
        from nodes.qwen_image21._prompt import processor_for
        from nodes.values import CondEntry

        _clip_of(clip)
        given = [k for k, v in slots.items() if v is not None and not k.startswith("ref_image_")]
        if given:
            raise NodeError("reference videos and soundtracks are not ones NodeFlow encodes yet: connect pictures",
                            given[0])
        if ref_image_size not in ("match", "max"):
            raise NodeError(f"ref_image_size is match or max, not '{ref_image_size}'", "ref_image_size")
        width = snap_to_factor(ctx, int(width), SIDE_STEP, "width")
        height = snap_to_factor(ctx, int(height), SIDE_STEP, "height")
        _, latent_frames, audio_frames = ad.frame_counts(int(length))
        pictures = [slots[f"ref_image_{n}"] for n in range(REFERENCE_SLOTS[0][1]) if slots.get(f"ref_image_{n}")
                    is not None]
        if not pictures:
            entry = _encode(clip, prompt, [])
            return _conditioning(entry, ()), _latent(latent_frames, audio_frames, width, height)
        _vae_of(vae)
        references = []
        for picture in pictures:
            w, h = refs.fitted_size(picture.shape[2], picture.shape[1], width * height, ref_image_size)
            fitted = _pictures(picture, w, h, "disabled")
            references.append(refs.Reference(refs.image_reference(fitted), ad.keyframe_latents(vae, fitted)))
        tokenizer, encoder = clip.part(clip.spec.encoders[0].part)
        states, tags = refs.prompt_states(tokenizer, encoder, processor_for(tokenizer), prompt, tuple(references),
                                          clip.device)
        entry = CondEntry(embeds=states.to(dtype=encoder.dtype), text=prompt,
                          extra=ad.Prompt(tags, references=tuple(references)))
        return _conditioning(entry, ()), _latent(latent_frames, audio_frames, width, height)


class AddGuide(Node):
    type_id = "minimax_h3.add_guide"
    title = "Add Guide for MiniMax H3"
    category = "conditioning/minimax_h3"
    description = ("Holds a picture at one frame of a MiniMax H3 video (negative frame_idx counts from the end); "
                   "chain several to hold several frames. The prompt's other keyframes are kept.")
    inputs = (
        Input("positive", CONDITIONING),
        Input("vae", VAE, optional=True, help="MiniMax H3's video VAE (encodes the picture)."),
        Input("audio_vae", VAE, optional=True, help="MiniMax H3's audio VAE (for a guide soundtrack)."),
        Input("latent", LATENT, help="The video + soundtrack latent the guide is placed in."),
        Input("image", IMAGE, optional=True),
        Input("audio", AUDIO, optional=True),
        Input("frame_idx", INT, default=0, min=-9999, max=9999),
    )
    outputs = (Output("positive", CONDITIONING),)

    def run(self, ctx: RunContext, positive: Any, latent: dict, frame_idx: int, vae: Any = None,
            audio_vae: Any = None, image: Any = None, audio: Any = None) -> tuple[Any]:
        from nodes.minimax_h3 import _adapter as ad

        samples = latent.get("samples")
        if latent.get("audio_samples") is None or samples is None or samples.dim() != 5:
            raise NodeError("this needs a MiniMax H3 video + soundtrack latent (MiniMax H3 Image to Video)", "latent")
        if audio is not None:
            raise NodeError("a guide soundtrack is not one NodeFlow holds yet: connect a picture only", "audio")
        if image is None:
            raise NodeError("connect the picture to hold at frame_idx", "image")
        if image.shape[0] >= 5:
            raise NodeError("a guide clip (5 or more frames) is not one NodeFlow holds yet: connect one picture",
                            "image")
        count = ad.pixel_frames(samples.shape[2])
        place = frame_idx if frame_idx >= 0 else count + frame_idx
        if not 0 <= place < count:
            raise NodeError(f"frame_idx {frame_idx} is outside the video's {count} frames", "frame_idx")
        entries = positive.entries
        if len(entries) != 1 or not isinstance(entries[0].extra, ad.Prompt):
            raise NodeError("this needs one MiniMax H3 prompt (MiniMax H3 Image to Video or Reference to Video)",
                            "positive")
        factor = by_name(FAMILY).latent.downscale
        picture = _pictures(image, samples.shape[-1] * factor, samples.shape[-2] * factor, "center")
        guide = ad.Guide(place, ad.keyframe_latents(_vae_of(vae), picture))
        return (_conditioning(entries[0], (guide,)),)


class SigmaShift(Node):
    type_id = "minimax_h3.sigma_shift"
    title = "MiniMax H3 Sigma Shift"
    category = "models/flow"
    description = ("The shifts of MiniMax H3's two schedules: the video's (12 released; the distilled FastH3 uses "
                   "10) and the soundtrack's (3). Both conventions sample with them.")
    inputs = (Input("model", MODEL), Input("shift", FLOAT, default=12.0, min=0.01, max=100.0, step=0.01),
              Input("audio_shift", FLOAT, default=3.0, min=0.01, max=100.0, step=0.01))
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, shift: float, audio_shift: float) -> tuple[Any]:
        import dataclasses

        from nodes.models.flow_sampling import COMFY_KEY

        if model.spec is None or model.spec.name != FAMILY:
            raise NodeError("this sets a MiniMax H3 model's shifts (Model Sampling SD3 sets other flow models')",
                            "model")
        if shift <= 0 or audio_shift <= 0:
            raise NodeError("the shifts must be above 0", "shift" if shift <= 0 else "audio_shift")
        chosen = {"kind": "linear", "shift": float(shift), "audio_shift": float(audio_shift)}
        return (dataclasses.replace(model, scheduler_config={**model.scheduler_config, COMFY_KEY: chosen}),)
