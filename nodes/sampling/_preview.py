"""Live previews while sampling: latents -> a small RGB picture by a fitted linear map, no VAE decode."""

from __future__ import annotations

import time
from typing import Any

from nodeflow.core import RunContext
from nodes._lazy import lazy
from nodes.latent._frames import preview_frame
from nodes.values import Model, stored_latents

torch = lazy("torch")

#: Seconds between latent previews (the first and last step always get one): a preview costs about
#: as much as a tiny model's step, and ten a second is all a viewer needs.
PREVIEW_EVERY = 0.1


class PreviewThrottle:
    """When a sampling step shows a preview, the one rule of every sampler: only when someone
    watches (the run shows previews and a listener takes progress), always at the first and the
    last step, and at most every PREVIEW_EVERY seconds between."""

    def __init__(self, ctx: RunContext, total: int):
        self.wanted = bool(ctx.previews) and ctx.on_progress is not None
        self.total = total
        self._last = 0.0

    def due(self, step: int) -> bool:
        if not self.wanted:
            return False
        now = time.perf_counter()
        if step in (0, self.total - 1) or now - self._last >= PREVIEW_EVERY:
            self._last = now
            return True
        return False


def latent_preview(model: Model, latents: Any) -> Any:
    """A cheap RGB picture of latents: a linear projection, no VAE decode (PIL, latent resolution)."""
    from PIL import Image

    if latents.ndim == 3:  # a sound's latents [B, C, steps]: no picture to show
        return None
    holder = preview_holder(model)
    if holder.preview_projection is None:
        holder.preview_projection = fit_preview_projection(model)
    weight, bias = holder.preview_projection
    x = preview_frame(latents)[0].detach().float().cpu()
    rgb = torch.einsum("chw,cr->rhw", x, weight) + bias[:, None, None]
    rgb = (rgb * 255).clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(rgb)


def preview_holder(model: Model) -> Any:
    """Where a model's preview projection is kept: on its VAE, which every copy of the model
    (LoRA, Model Sampling) shares, so it is fitted once per checkpoint."""
    return model.vae if model.vae is not None else model


def fit_preview_projection(model: Model) -> tuple[Any, Any]:
    """Least-squares latent -> RGB map for this checkpoint's VAE, fitted once from one encode.

    A picture of random colour patches is encoded; each latent cell is paired with the average
    colour of the pixels it covers. Works for any VAE (SD's, SDXL's, the built-in tiny model's).
    """
    channels = model.latent_channels
    vae = model.vae
    if vae is None:
        return torch.zeros(channels, 3), torch.full((3,), 0.5)
    factor = vae.scale_factor
    cells = 8
    generator = torch.Generator("cpu").manual_seed(0)
    patches = torch.rand((1, 3, cells, cells), generator=generator)
    pixels = torch.nn.functional.interpolate(patches, scale_factor=factor * 4, mode="nearest")
    with torch.no_grad():
        mean, _ = vae.encode_dist((2 * pixels - 1).to(device=vae.device, dtype=vae.dtype))
    latents = preview_frame(stored_latents(mean.float().cpu(), vae.numbers()))[0]  # [C, 4 * cells, 4 * cells]
    targets = torch.nn.functional.interpolate(patches, size=latents.shape[-2:], mode="nearest")[0]
    a = torch.cat([latents.reshape(channels, -1).T, torch.ones(latents[0].numel(), 1)], dim=1)
    solution = torch.linalg.lstsq(a, targets.reshape(3, -1).T).solution  # [C + 1, 3]
    return solution[:channels], solution[channels]
