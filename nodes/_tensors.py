"""Tensor helpers several node families share: pictures and masks between PIL, numpy and torch.

Layouts are kept exactly as diffusers' image and mask processors make them (see each docstring):
the VAE's and UNet's floats depend on memory layout, and pixel parity with diffusers depends on them.
"""

from __future__ import annotations

from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")
np = lazy("numpy")


def pil_to_image(pil: Any) -> Any:
    """A PIL RGB image as IMAGE [1, H, W, 3] float32 in [0, 1], computed as diffusers does."""
    array = np.array(pil.convert("RGB") if pil.mode != "RGB" else pil).astype(np.float32) / 255.0
    return torch.from_numpy(array)[None]


def image_to_uint8(image: Any, eight_bit: str = "round") -> Any:
    """IMAGE [B, H, W, C] to a uint8 numpy array, rounded as diffusers or truncated as ComfyUI."""
    array = image.detach().cpu().float().numpy() * 255
    if eight_bit == "truncate":
        return np.clip(array, 0, 255).astype("uint8")
    return array.round().astype("uint8")


def image_to_pils(image: Any, eight_bit: str = "round") -> list[Any]:
    from PIL import Image

    return [Image.fromarray(a) for a in image_to_uint8(image, eight_bit)]


def image_to_vae_input(image: Any, device: str, dtype: Any) -> Any:
    """IMAGE [B, H, W, C] in [0, 1] to the VAE's [B, C, H, W] in [-1, 1].

    The permuted view keeps the channels-last memory layout that diffusers' image processor
    produces (`torch.from_numpy(array.transpose(0, 3, 1, 2))`); the VAE's convolutions give
    slightly different floats for a contiguous copy, so the layout is kept on purpose.
    """
    pixels = image[..., :3].permute(0, 3, 1, 2)
    pixels = 2.0 * pixels - 1.0
    return pixels.to(device=device, dtype=dtype)


def mask_to_b1hw(mask: Any) -> Any:
    """MASK [B, H, W] or [H, W] to [B, 1, H, W] float32.

    Made as diffusers' mask processor makes it (`from_numpy(array[..., None].transpose(0, 3, 1, 2))`),
    strides included: interpolation and the inpaint blend pick their output memory layout from it,
    and the UNet's floats depend on that layout.
    """
    if mask.ndim == 2:
        mask = mask[None]
    array = np.array(mask.detach().cpu().float().numpy(), copy=True)  # callers may edit in place
    return torch.from_numpy(array[..., None].transpose(0, 3, 1, 2))


def fit_mask(mask: Any, height: int, width: int) -> Any:
    """Resize a [B, 1, h, w] mask to (height, width) with bilinear filtering if it differs."""
    if tuple(mask.shape[-2:]) == (height, width):
        return mask
    return torch.nn.functional.interpolate(mask, size=(height, width), mode="bilinear")
