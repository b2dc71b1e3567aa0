"""LTX-2's picture conditioning, in ComfyUI's vocabulary: LTXVPreprocess and LTXVImgToVideoInplace.

A start picture is put into the video latent's first frames and held there by the noise mask: LTX-2
(`Family.mask_keeps_clean`) keeps those frames clean while the rest is made, and tells its transformer
their timestep is t x mask, as LTX2ImageToVideoPipeline does with its conditioning mask.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import BOOLEAN, FLOAT, IMAGE, INT, LATENT, VAE
from nodes.ltx2 import _av


class Preprocess(Node):
    type_id = "ltx2.preprocess"
    title = "LTXV Preprocess"
    category = "image/ltx2"
    description = ("Compresses each picture as one H.264 video frame at the given CRF and back, so a start picture "
                   "carries the compression LTX-2 saw in training (diffusers' apply_image_conditioning_crf, a port of "
                   "LTX-2's own preprocessing). 0 leaves the pictures as they are.")
    inputs = (Input("image", IMAGE),
              Input("img_compression", INT, default=35, min=0, max=100, help="H.264 CRF (0: no compression)."))
    outputs = (Output("output_image", IMAGE),)

    def run(self, ctx: RunContext, image: Any, img_compression: int) -> tuple[Any]:
        import numpy as np
        import torch
        from diffusers.pipelines.ltx2.utils import apply_image_conditioning_crf

        if img_compression < 0:
            raise NodeError("the compression (CRF) must be 0 or more", "img_compression")
        if img_compression == 0:
            return (image,)
        out = []
        for picture in image:
            pixels = (picture[..., :3].clamp(0, 1) * 255).to(torch.uint8).cpu().numpy()  # truncated, as ComfyUI
            compressed = apply_image_conditioning_crf(pixels, int(img_compression))
            out.append(torch.from_numpy(np.ascontiguousarray(compressed)))
        return (torch.stack(out).float() / 255.0,)


class ImgToVideoInplace(Node):
    type_id = "ltx2.img_to_video_inplace"
    title = "LTXV Img To Video Inplace"
    category = "conditioning/ltx2"
    description = ("Encodes the picture(s) with the video VAE into the latent's first frames (scaled and centre-"
                   "cropped to the video's size first) and marks those frames kept: their noise mask is 1 - strength, "
                   "so at strength 1 LTX-2 keeps them as they are and makes the rest of the video from them.")
    inputs = (Input("vae", VAE), Input("image", IMAGE), Input("latent", LATENT),
              Input("strength", FLOAT, default=1.0, min=0.0, max=1.0, step=0.01,
                    help="How firmly the frames are kept: 1 as given, 0 made anew."),
              Input("bypass", BOOLEAN, default=False, help="Pass the latent through unchanged."))
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, vae: Any, image: Any, latent: dict, strength: float,
            bypass: bool) -> tuple[dict]:
        if bypass:
            return (latent,)
        samples = latent["samples"]
        frames = encode_frames(vae, image, samples)
        if frames.shape[2] > samples.shape[2]:
            raise NodeError(f"{image.shape[0]} pictures make {frames.shape[2]} latent frames, more than the video's "
                            f"{samples.shape[2]}", "image")
        samples = samples.clone()
        samples[:, :, :frames.shape[2]] = frames.to(samples.dtype)
        mask = _av.noise_mask(latent)
        mask[:, :, :frames.shape[2]] = 1.0 - float(strength)
        return ({**latent, "samples": samples, "noise_mask": mask},)


def encode_frames(vae: Any, image: Any, samples: Any) -> Any:
    """Pictures as video latent frames beside `samples` (ComfyUI's LTXV guides and in-place frames): scaled
    and centre-cropped to the video's size (bilinear), encoded with the video VAE (its mean), stored scaled."""
    import torch

    from nodes.image._resize import scale_image
    from nodes.latent._frames import to_video
    from nodes.values import Vae, stored_latents

    if not isinstance(vae, Vae):
        raise NodeError("this needs LTX-2's video VAE (the checkpoint's VAE), not the audio VAE", "vae")
    if samples.ndim != 5:
        raise NodeError(f"this needs a video latent [batch, channels, frames, height, width]; this one is "
                        f"{tuple(samples.shape)}", "latent")
    if samples.shape[1] != vae.latent_channels:
        raise NodeError(f"the latent has {samples.shape[1]} channels, this VAE makes {vae.latent_channels}", "vae")
    height, width = samples.shape[3] * vae.scale_factor, samples.shape[4] * vae.scale_factor
    if tuple(image.shape[1:3]) != (height, width):
        image = scale_image(image, width, height, "bilinear", "center")
    pixels = to_video(image[..., :3].permute(0, 3, 1, 2) * 2.0 - 1.0).to(device=vae.device, dtype=vae.dtype)
    with torch.no_grad():
        mean, _ = vae.encode_dist(pixels)
    return stored_latents(mean.float(), vae.numbers()).cpu()
