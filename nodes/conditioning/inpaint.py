"""Pictures handed to a model as extra input channels: an inpainting model's blanked picture and mask
(ComfyUI's InpaintModelConditioning), a control model's picture (InstructPixToPixConditioning)."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import BOOLEAN, CONDITIONING, IMAGE, LATENT, MASK, VAE


class InpaintModelConditioning(Node):
    type_id = "conditioning.inpaint_model"
    title = "Inpaint Model Conditioning"
    category = "conditioning/inpaint"
    description = (
        "Prepares an inpainting model (Flux Fill, 9-channel SD inpainting UNets): the prompts carry the "
        "picture with the masked area blanked and the mask (1 = repaint; rounded to 0 or 1, as diffusers "
        "does), and the latent is the encoded picture. noise_mask also keeps the unmasked area while "
        "sampling (ComfyUI's default); off, the model alone decides, as FluxFillPipeline does."
    )
    inputs = (
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING),
        Input("vae", VAE),
        Input("pixels", IMAGE),
        Input("mask", MASK),
        Input("noise_mask", BOOLEAN, default=True),
    )
    outputs = (Output("positive", CONDITIONING), Output("negative", CONDITIONING), Output("latent", LATENT))

    def run(self, ctx: RunContext, positive: Any, negative: Any, vae: Any, pixels: Any, mask: Any,
            noise_mask: bool = True) -> tuple[Any, Any, dict]:
        import torch

        from nodes._tensors import fit_mask, mask_to_b1hw
        from nodes.vae.codec import _checked_pixels, _dist, _scaled_mean
        from nodes.values import Conditioning

        pixels = _checked_pixels(ctx, pixels, vae.scale_factor)
        b, h, w = pixels.shape[0], pixels.shape[1], pixels.shape[2]
        mask = fit_mask(mask_to_b1hw(mask), h, w)
        mask[mask < 0.5] = 0  # in place, as diffusers' mask processor binarizes
        mask[mask >= 0.5] = 1
        if mask.shape[0] not in (1, b):
            raise NodeError(f"{mask.shape[0]} masks for {b} images", "mask")
        init = 2.0 * pixels[..., :3].permute(0, 3, 1, 2) - 1.0
        masked = init * (1 - mask)
        with torch.no_grad():
            dist = _dist(vae, init.to(device=vae.device, dtype=vae.dtype))
            masked_dist = _dist(vae, masked.to(device=vae.device, dtype=vae.dtype))
        concat = {"latent_dist": masked_dist, "samples": _scaled_mean(masked_dist), "mask": mask}
        latent = {"samples": _scaled_mean(dist), "latent_dist": dist, "masked_dist": masked_dist,
                  "downscale": vae.scale_factor}
        if noise_mask:
            latent["noise_mask"] = mask

        def with_concat(cond: Any) -> Any:
            return Conditioning([e.with_(concat=concat) for e in cond.entries])

        return with_concat(positive), with_concat(negative), latent


class InstructPixToPixConditioning(Node):
    type_id = "conditioning.control_picture"
    title = "Control Picture Conditioning"
    category = "conditioning/inpaint"
    description = (
        "Gives a model that takes a picture as extra input channels (Flux.1 Canny / Depth, InstructPix2Pix) "
        "its control picture, encoded by the VAE (drawn with the sampler's seed, as FluxControlPipeline "
        "does), and an empty latent of the picture's size to draw into. Feed it the preprocessed picture "
        "(edges, depth map)."
    )
    inputs = (Input("positive", CONDITIONING), Input("negative", CONDITIONING), Input("vae", VAE),
              Input("pixels", IMAGE))
    outputs = (Output("positive", CONDITIONING), Output("negative", CONDITIONING), Output("latent", LATENT))

    def run(self, ctx: RunContext, positive: Any, negative: Any, vae: Any, pixels: Any) -> tuple[Any, Any, dict]:
        import torch

        from nodes._tensors import image_to_vae_input
        from nodes.vae.codec import _checked_pixels, _dist, _scaled_mean
        from nodes.values import Conditioning

        pixels = _checked_pixels(ctx, pixels, vae.scale_factor)
        with torch.no_grad():
            dist = _dist(vae, image_to_vae_input(pixels, vae.device, vae.dtype))
        concat = {"latent_dist": dist, "samples": _scaled_mean(dist)}
        latent = {"samples": torch.zeros_like(concat["samples"]).cpu(), "downscale": vae.scale_factor}
        return (Conditioning([e.with_(concat=concat) for e in positive.entries]),
                Conditioning([e.with_(concat=concat) for e in negative.entries]), latent)
