"""The picture condition of Wan's image-to-video transformers (Wan 2.2 14B i2v, 36 input channels).

The transformer sees, on the channel axis, [noisy latents (16), known-frame mask (4), guide latents (16)]
(`_adapter.Denoise` joins the first to the `concat` this module makes), as WanImageToVideoPipeline builds
its `condition` and as ComfyUI's Wan model reads `concat_latent_image` and `concat_mask`:

- the guide video: `length` frames of mid grey (0 in the VAE's [-1, 1]) with the known pictures in
  place (the start pictures first, the end pictures last), encoded as one video by the Wan VAE, the
  posterior's mean (the pipeline's sample_mode "argmax"), normalised per channel as every LATENT is;
- the mask: 1 where a frame is known. Its 4 channels are the 4 frames a latent frame stands for, the
  first latent frame standing for the first frame alone (its 4 channels all that frame): frame p > 0 is
  channel (p + 3) % 4 of latent frame (p + 3) // 4.

Wan Image To Video marks whole latent frames known (every latent frame its start pictures reach, as
ComfyUI's node does); Wan First-Last Frame To Video marks frames (as the pipeline's `last_image`
and ComfyUI's node do). With one start picture both are latent frame 0, the pipelines' mask.
"""

from __future__ import annotations

from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")

#: Frames one latent frame stands for, after the first (Wan's VAE): also the mask's channels.
TEMPORAL = 4


def guide_video(length: int, height: int, width: int, start: Any = None, end: Any = None, pad: Any = None) -> Any:
    """[length, H, W, 3] frames in [0, 1]: mid grey (or `pad`, a picture) with `start` at the beginning and
    `end` at the end (IMAGE batches already fitted to the size, later pictures winning where they meet)."""
    frames = torch.full((length, height, width, 3), 0.5)
    if pad is not None:
        frames[:] = pad[:1, ..., :3]
    if start is not None:
        frames[:start.shape[0]] = start[..., :3]
    if end is not None:
        frames[length - end.shape[0]:] = end[..., :3]
    return frames


def known_entries(latent_frames: int, start: int, end: int, whole: bool) -> Any:
    """The mask of known frames, [4 x latent_frames] entries in latent-frame order (see the module
    docstring): `start` frames known from the beginning, `end` at the end; `whole` marks every latent
    frame the start frames reach in full (Wan Image To Video's rule)."""
    known = torch.zeros(latent_frames * TEMPORAL)
    if start:
        reach = ((start - 1) // TEMPORAL + 1) * TEMPORAL if whole else start + TEMPORAL - 1
        known[:reach] = 1.0
    if end:
        known[known.shape[0] - end:] = 1.0
    return known


def condition(vae: Any, frames: Any, known: Any) -> Any:
    """The [1, 4 + C, latent frames, h, w] condition: the known-frame mask, then the guide video's
    latents (frames [F, H, W, 3] in [0, 1], encoded as one video)."""
    from nodes._latent_numbers import stored_latents
    from nodes._tensors import image_to_vae_input
    from nodes.latent._frames import to_video

    video = to_video(image_to_vae_input(frames, vae.device, vae.dtype)).contiguous()
    with torch.no_grad():
        mean, _ = vae.encode_dist(video)
    latents = stored_latents(mean.float(), vae.numbers())
    f, h, w = latents.shape[-3:]
    mask = known.view(1, f, TEMPORAL, 1, 1).transpose(1, 2).expand(1, TEMPORAL, f, h, w)
    return torch.cat([mask.to(latents), latents], dim=1).cpu()
