"""VAE nodes: latents to pixels and back, and the masked encode inpainting needs."""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import IMAGE, INT, LATENT, MASK, STRING, VAE
from nodes.vae._tiling import tiling


def decode(vae: Any, latent: dict, tile: int | None = None, overlap: int = 0) -> Any:
    """Pictures [B, H, W, 3] in [0, 1] from a LATENT; in tiles of `tile` pixels overlapping by
    `overlap` when a tile is given (`_tiling.tiling`). A video latent gives its frames on the batch
    axis, video after video (`nodes.latent._frames`)."""
    import torch

    from nodes.latent._frames import has_frames, to_frames

    samples = latent["samples"].to(device=vae.device, dtype=vae.dtype)
    if samples.shape[1] != vae.latent_channels:
        raise NodeError(f"the latent has {samples.shape[1]} channels, this VAE expects "
                        f"{vae.latent_channels}", "latent")
    height, width = samples.shape[-2] * vae.scale_factor, samples.shape[-1] * vae.scale_factor
    with torch.no_grad(), tiling(vae, height, width, tile, overlap):
        raw = vae.raw(samples)
        if has_frames(raw):
            decoded = to_frames(vae.vae.decode(raw, return_dict=False)[0])
        elif vae.frames:
            decoded = vae.vae.decode(raw.unsqueeze(2), return_dict=False)[0][:, :, 0]
        else:
            decoded = vae.vae.decode(raw, return_dict=False)[0]
        image = unit_pixels(vae, decoded[:, :3])  # an RGBA VAE's alpha (Qwen Image 2.1's) is not kept
    return image.cpu().permute(0, 2, 3, 1).float().contiguous()


def vae_pixels(vae: Any, pixels: Any) -> Any:
    """Pictures in [-1, 1] as the VAE takes them: unchanged, or normalised by its family's pixel statistics
    (`Family.pixel_stats`: MiniMax H3's ImageNet ones); the inverse of `unit_pixels`."""
    from nodes.families import by_name

    spec = by_name(vae.family)
    if spec is None or spec.pixel_stats is None:
        return pixels
    mean, std = (pixels.new_tensor(v).view(1, -1, 1, 1) for v in spec.pixel_stats)
    return ((pixels * 0.5 + 0.5) - mean) / std


def unit_pixels(vae: Any, decoded: Any) -> Any:
    """[0, 1] pictures [B, 3, H, W] of a VAE's output: from [-1, 1], or its family's pixel statistics
    undone (`Family.pixel_stats`: MiniMax H3's ImageNet ones, as its pipeline decodes)."""
    from nodes.families import by_name

    spec = by_name(vae.family)
    if spec is None or spec.pixel_stats is None:
        return (decoded * 0.5 + 0.5).clamp(0, 1)
    mean, std = (decoded.new_tensor(v, dtype=decoded.float().dtype).view(1, -1, 1, 1) for v in spec.pixel_stats)
    return (decoded.float() * std + mean).clamp(0, 1)


def _checked_pixels(ctx: RunContext, image: Any, factor: int) -> Any:
    """Crop (centred) to a multiple of the VAE's factor, warning when anything is cut."""
    h, w = image.shape[1], image.shape[2]
    nh, nw = h // factor * factor, w // factor * factor
    if nh == 0 or nw == 0:
        raise NodeError(f"the image ({w}x{h}) is smaller than the VAE's {factor}-pixel cell", "pixels")
    if (nh, nw) != (h, w):
        ctx.warn(f"image {w}x{h} cropped to {nw}x{nh} (a multiple of the VAE's factor {factor})")
        top, left = (h - nh) // 2, (w - nw) // 2
        image = image[:, top:top + nh, left:left + nw].contiguous()
    return image


def grow_window(mask: Any, k: int) -> Any:
    """A 0/1 [B, 1, H, W] mask widened as ComfyUI's grow_mask_by widens it: a box convolution with a
    k x k kernel and zero padding p = ceil((k - 1) / 2), cut back to H x W, then clamped. Pixel y
    sees rows y - p .. y - p + k - 1, so the mask grows k - 1 - p pixels up and left and p down and
    right (k = 6: 2 and 3). On a 0/1 mask that is a max over the same window."""
    import torch.nn.functional as F

    if k <= 0:
        return mask
    p = k // 2  # = ceil((k - 1) / 2)
    return F.max_pool2d(F.pad(mask, (p, k - 1 - p, p, k - 1 - p)), kernel_size=k, stride=1)


def _comfy_inpaint_latent(ctx: RunContext, pixels: Any, vae: Any, mask: Any, grow_mask_by: int) -> dict:
    """ComfyUI's VAE Encode (for Inpainting): the mask is fitted to the picture, both are cropped
    to the VAE's cell (centred), the rounded mask greys its pixels (0.5) and that picture is
    encoded; the noise mask is the rounded mask grown by `grow_window`."""
    import torch

    from nodes._tensors import fit_mask, mask_to_b1hw

    h, w = pixels.shape[1], pixels.shape[2]
    mask = fit_mask(mask_to_b1hw(mask).float(), h, w)
    cropped = _checked_pixels(ctx, pixels, vae.scale_factor)
    nh, nw = cropped.shape[1], cropped.shape[2]
    top, left = (h - nh) // 2, (w - nw) // 2
    mask = mask[:, :, top:top + nh, left:left + nw].round()
    if mask.shape[0] not in (1, cropped.shape[0]):
        raise NodeError(f"{mask.shape[0]} masks for {cropped.shape[0]} images", "mask")
    keep = (1.0 - mask).permute(0, 2, 3, 1)
    greyed = (cropped[..., :3] - 0.5) * keep + 0.5
    with torch.no_grad():
        dist = _dist(vae, (2.0 * greyed - 1.0).permute(0, 3, 1, 2).to(device=vae.device, dtype=vae.dtype))
    return {"samples": _scaled_mean(dist), "latent_dist": dist, "masked_dist": dist,
            "noise_mask": grow_window(mask, int(grow_mask_by)), "downscale": vae.scale_factor}


def _dist(vae: Any, pixels: Any, tile: int | None = None, overlap: int = 0) -> dict:
    with tiling(vae, pixels.shape[-2], pixels.shape[-1], tile, overlap):
        mean, std = vae.encode_dist(pixels)
    return {"mean": mean, "std": std, **vae.numbers()}


def _scaled_mean(dist: dict) -> Any:
    """The posterior mean as a LATENT holds it (`stored_latents`)."""
    from nodes.values import stored_latents

    return stored_latents(dist["mean"], dist)


class VAEDecode(Node):
    type_id = "vae.decode"
    title = "VAE Decode"
    category = "vae"
    description = "Turns latents into pictures with the checkpoint's VAE."
    inputs = (Input("latent", LATENT), Input("vae", VAE))
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, latent: dict, vae: Any) -> tuple[Any]:
        return (decode(vae, latent),)


class VAEEncode(Node):
    type_id = "vae.encode"
    title = "VAE Encode"
    category = "vae"
    description = (
        "Turns pictures into latents, for image-to-image (sample with denoise below 1). The latent "
        "remembers the encoder's distribution, and the sampler draws from it with its seed, as "
        "diffusers' img2img pipeline does. Sizes not a multiple of the VAE's factor are cropped."
    )
    inputs = (Input("pixels", IMAGE), Input("vae", VAE))
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, pixels: Any, vae: Any) -> tuple[dict]:
        return (encode(ctx, pixels, vae),)


def encode(ctx: RunContext, pixels: Any, vae: Any, tile: int | None = None, overlap: int = 0) -> dict:
    """VAE Encode's LATENT (the posterior mean, with the distribution the sampler draws from); in
    tiles of `tile` pixels overlapping by `overlap` when a tile is given. A video family's VAE takes
    the batch as one video's frames (`nodes.latent._frames`)."""
    import torch

    from nodes._tensors import image_to_vae_input
    from nodes.latent._frames import to_video

    pixels = _checked_pixels(ctx, pixels, vae.scale_factor)
    vae_input = vae_pixels(vae, image_to_vae_input(pixels, vae.device, vae.dtype))
    temporal = vae.temporal
    if temporal:
        left = (pixels.shape[0] - 1) % temporal
        if left:
            ctx.warn(f"{pixels.shape[0]} frames: this video VAE takes the first alone, then {temporal} at a time; "
                     f"the last {left} are not encoded")
        vae_input = to_video(vae_input)
    with torch.no_grad():
        dist = _dist(vae, vae_input, tile, overlap)
    return {"samples": _scaled_mean(dist), "latent_dist": dist, "downscale": vae.scale_factor}


class VAEEncodeForInpaint(Node):
    type_id = "vae.encode_inpaint"
    title = "VAE Encode for Inpaint"
    category = "vae"
    description = (
        "Prepares inpainting: encodes the picture and the picture with the masked area blanked, "
        "and attaches the mask (1 = repaint; values are rounded to 0 or 1, as diffusers does). "
        "Works with normal models (the unmasked area is kept while sampling) and with 9-channel "
        "inpainting models (which also see the blanked picture). grow_mask_by widens the mask by "
        "that many pixels to hide seams; 0 gives exactly diffusers' inpaint pipeline. Use Image "
        "Composite Masked after decoding to get the unmasked pixels back exactly. In the comfyui "
        "convention (imported workflows) it does what ComfyUI does: the masked pixels are greyed and "
        "that picture is encoded, and grow_mask_by k widens the mask by ceil((k - 1) / 2) pixels down "
        "and right and the rest of k - 1 up and left (k = 6: 3 and 2)."
    )
    inputs = (
        Input("pixels", IMAGE),
        Input("vae", VAE),
        Input("mask", MASK),
        Input("grow_mask_by", INT, default=6, min=0, max=64,
              help="Widen the mask by this many pixels (0 = exactly as diffusers' inpaint pipeline)."),
        Input("convention", STRING, default="diffusers", choices=("diffusers", "comfyui"),
              help="diffusers: as diffusers' inpaint pipeline. comfyui: as ComfyUI's VAE Encode (for Inpainting)."),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, pixels: Any, vae: Any, mask: Any, grow_mask_by: int,
            convention: str = "diffusers") -> tuple[dict]:
        import torch

        from nodes._tensors import fit_mask, mask_to_b1hw

        if convention == "comfyui":
            return (_comfy_inpaint_latent(ctx, pixels, vae, mask, grow_mask_by),)
        pixels = _checked_pixels(ctx, pixels, vae.scale_factor)
        b, h, w = pixels.shape[0], pixels.shape[1], pixels.shape[2]
        mask = fit_mask(mask_to_b1hw(mask), h, w)
        mask[mask < 0.5] = 0  # in place, as diffusers binarizes (keeps the tensor's layout)
        mask[mask >= 0.5] = 1
        if grow_mask_by > 0:
            k = int(grow_mask_by)
            mask = torch.nn.functional.max_pool2d(mask, kernel_size=2 * k + 1, stride=1, padding=k)
        if mask.shape[0] not in (1, b):
            raise NodeError(f"{mask.shape[0]} masks for {b} images", "mask")
        init = 2.0 * pixels[..., :3].permute(0, 3, 1, 2) - 1.0
        masked = init * (mask < 0.5)
        with torch.no_grad():
            dist = _dist(vae, init.to(device=vae.device, dtype=vae.dtype))
            masked_dist = _dist(vae, masked.to(device=vae.device, dtype=vae.dtype))
        return ({"samples": _scaled_mean(dist), "latent_dist": dist,
                 "masked_dist": masked_dist, "noise_mask": mask, "downscale": vae.scale_factor},)
