"""Canny edge detection in torch (ComfyUI's Canny node; kornia is not a dependency here).

The published algorithm (Canny 1986): grey levels, a 5x5 Gaussian blur (sigma 1), Sobel gradients,
thinning to local maxima across the gradient direction, then hysteresis: pixels above `high` are
edges, and pixels above `low` are edges when connected to one. Edges come out 1, the rest 0.
Values match kornia's only approximately (its blur and rounding differ); no pixel parity is claimed.
"""

from __future__ import annotations

import math
from typing import Any


def canny(image: Any, low: float, high: float) -> Any:
    """IMAGE [B, H, W, C] -> edges [B, H, W] in {0, 1}."""
    import torch
    import torch.nn.functional as F

    grey = (image[..., :3] * torch.tensor([0.299, 0.587, 0.114])).sum(-1, keepdim=True).permute(0, 3, 1, 2)
    x = torch.arange(5, dtype=torch.float32) - 2
    g = torch.exp(-x**2 / 2)
    g = (g / g.sum())
    grey = F.conv2d(F.pad(grey, (2, 2, 2, 2), mode="reflect"), (g[:, None] * g[None, :])[None, None])
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    padded = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    gx = F.conv2d(padded, sobel[None, None])
    gy = F.conv2d(padded, sobel.T[None, None])
    magnitude = torch.sqrt(gx**2 + gy**2 + 1e-12)[:, 0]
    angle = torch.rad2deg(torch.atan2(gy, gx))[:, 0] % 180
    sector = (((angle + 22.5) // 45) % 4).long()  # 0: horizontal gradient, 1: 45, 2: vertical, 3: 135
    offsets = ((0, 1), (1, 1), (1, 0), (1, -1))
    padded_mag = F.pad(magnitude[:, None], (1, 1, 1, 1))[:, 0]
    h, w = magnitude.shape[1:]
    keep = torch.zeros_like(magnitude, dtype=torch.bool)
    for index, (dy, dx) in enumerate(offsets):
        ahead = padded_mag[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        behind = padded_mag[:, 1 - dy:1 - dy + h, 1 - dx:1 - dx + w]
        keep |= (sector == index) & (magnitude >= ahead) & (magnitude >= behind)
    thin = magnitude * keep
    strong, weak = thin > high, thin > low
    edges = strong
    for _ in range(math.ceil(math.sqrt(h * w)) * 4):  # hysteresis: grow strong edges along weak ones
        grown = (F.max_pool2d(edges[:, None].float(), 3, 1, 1)[:, 0] > 0) & weak
        if torch.equal(grown, edges):
            break
        edges = grown
    return edges.float()
