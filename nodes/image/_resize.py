"""Resizing pictures: the one rule behind Image Scale and every node that fits a picture to a size.

IMAGE is [B, H, W, C] in [0, 1]. Lanczos goes through Pillow on 8-bit pictures (as ComfyUI does);
the other filters through torch's interpolation.
"""

from __future__ import annotations

from typing import Any


def scale_image(image: Any, width: int, height: int, method: str, crop: str) -> Any:
    """Resize to width x height; crop "center" keeps the aspect ratio by cutting the excess; a width
    or height of 0 keeps the aspect ratio from the other (both 0: unchanged)."""
    import numpy as np
    import torch
    from PIL import Image

    b, h, w, _ = image.shape
    if width == 0 and height == 0:
        return image
    width = width or max(1, round(w * height / h))
    height = height or max(1, round(h * width / w))
    if crop == "center":
        target, source = width / height, w / h
        if source > target:
            cw = round(h * target)
            left = (w - cw) // 2
            image = image[:, :, left:left + cw]
        elif source < target:
            ch = round(w / target)
            top = (h - ch) // 2
            image = image[:, top:top + ch]
    if method == "lanczos":
        from nodes._tensors import image_to_uint8

        out = [np.asarray(Image.fromarray(a).resize((width, height), Image.Resampling.LANCZOS))
               for a in image_to_uint8(image)]
        return torch.from_numpy(np.stack(out).astype(np.float32) / 255.0)
    x = image.permute(0, 3, 1, 2)
    kwargs = {"antialias": True, "align_corners": False} if method in ("bilinear", "bicubic") else {}
    x = torch.nn.functional.interpolate(x, size=(height, width), mode=method, **kwargs)
    return x.clamp(0, 1).permute(0, 2, 3, 1).contiguous()


def fit_image(image: Any, height: int, width: int) -> Any:
    """Resize a batch to (height, width) as Image Scale does with bilinear filtering and a centre crop."""
    if tuple(image.shape[1:3]) == (height, width):
        return image
    return scale_image(image, width, height, "bilinear", "center")
