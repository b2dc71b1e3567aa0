"""Qwen-Image Layered's maths, written to match diffusers' QwenImageLayeredPipeline.

The model splits a picture into RGBA layers. Its latents carry them as frames: [B, C, 1 + layers, h, w],
the composite first, then each layer (`LatentFormat.layered`); the picture to split is the one reference
latent (Reference Latent, the VAE posterior's mode normalised per channel, as the pipeline's `image_latents`).

- `encode`: Qwen-Image's prompt encoding (`nodes.qwen_image._adapter.encode`: the pipeline's template and
  states are the same).
- `Denoise`: the frames as 2x2-cell tokens, frame after frame (the pipeline's `_pack_latents` over
  [B, frames, C, h, w]), the reference's tokens after them; `img_shapes` lists each frame's grid and the
  reference's last, which the transformer's layer rope (`use_layer3d_rope`) places at layer index -1; the
  second timestep embedding says RGBA (0, the pipeline's `is_rgb`). The output is cut back to the frames'
  tokens and unpacked to [B, C, frames, h, w].
- `start_noise`: drawn as the pipeline draws it, [B, frames, C, h, w], then laid out as a LATENT holds it.
- Guidance is the pipeline's plain true CFG (its `cfg_normalize` is off by default): no `mix` here.
- `denoiser_config`: Qwen-Image's reading of a file's sizes over the shipped layered config, which switches
  the layer rope and the second timestep embedding on (a layered file is told by that embedding's weights,
  `core.family_detection`).
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.qwen_image._adapter import denoiser_config, encode, pack, scheduler_config

torch = lazy("torch")

__all__ = ["Denoise", "denoiser_config", "encode", "scheduler_config", "start_noise"]


def pack_frames(latents: Any) -> Any:
    """[B, C, F, h, w] -> [B, F * h/2 * w/2, 4C]: each frame's 2x2 cells, frame after frame."""
    b, c, f, h, w = latents.shape
    frames = latents.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
    return pack(frames).reshape(b, f * (h // 2) * (w // 2), c * 4)


def unpack_frames(tokens: Any, frames: int, h: int, w: int) -> Any:
    """The inverse of `pack_frames`."""
    b, _, features = tokens.shape
    cells = tokens.view(b, frames, h // 2, w // 2, features // 4, 2, 2).permute(0, 1, 4, 2, 5, 3, 6)
    return cells.reshape(b, frames, features // 4, h, w).permute(0, 2, 1, 3, 4)


def start_noise(shape: tuple[int, ...], generator: Any, device: Any, dtype: Any) -> Any:
    """The pipeline's start noise for latents of `shape` [B, C, F, h, w]: drawn as [B, F, C, h, w]."""
    from diffusers.utils.torch_utils import randn_tensor

    b, c, f, h, w = shape
    return randn_tensor((b, f, c, h, w), generator=generator, device=device, dtype=dtype).permute(0, 2, 1, 3, 4)


class Denoise:
    """The transformer's velocity for [B, C, frames, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        h, w = size
        require_whole_cells(h, w, model.vae_scale_factor, "Qwen-Image Layered")
        if len(entry.references) != 1:
            raise NodeError(f"Qwen-Image Layered splits one picture: give its latent to both prompts with one "
                            f"Reference Latent ({len(entry.references)} given)", "positive")
        self.model, self.size = model, size
        embeds = entry.embeds.to(model.device)
        self.embeds = embeds.repeat(1, batch, 1).view(embeds.shape[0] * batch, embeds.shape[1], -1)
        mask = entry.attention_mask
        self.mask = None if mask is None else mask.to(model.device).repeat(batch, 1)
        reference = entry.references[0]
        if reference.ndim == 5:  # a picture encoded as one frame
            reference = reference[:, :, 0]
        rh, rw = reference.shape[-2:]
        self.reference = pack(reference.to(device=model.device, dtype=model.dtype))
        if self.reference.shape[0] not in (1, batch):
            raise NodeError(f"{self.reference.shape[0]} reference pictures for a batch of {batch}", "positive")
        self.reference = self.reference.expand(batch, -1, -1) if self.reference.shape[0] == 1 else self.reference
        self.grids = (h // 2, w // 2), (1, rh // 2, rw // 2)
        self.rgba = torch.zeros(batch, dtype=torch.long, device=model.device)

    def __call__(self, latents: Any, t: Any) -> Any:
        h, w = self.size
        frames = latents.shape[2]
        shapes = [[(1, *self.grids[0])] * frames + [self.grids[1]]] * latents.shape[0]
        timestep = t.expand(latents.shape[0]).to(latents.dtype)
        tokens = pack_frames(latents)
        count = tokens.shape[1]
        out = self.model.unet(hidden_states=torch.cat([tokens, self.reference], dim=1), timestep=timestep / 1000,
                              guidance=None, encoder_hidden_states_mask=self.mask, encoder_hidden_states=self.embeds,
                              img_shapes=shapes, attention_kwargs={}, additional_t_cond=self.rgba,
                              return_dict=False)[0]
        return unpack_frames(out[:, :count], frames, h, w)

