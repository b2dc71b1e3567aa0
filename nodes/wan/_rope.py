"""Wan's rotary positions scaled and shifted (Scale ROPE, ComfyUI's ScaleROPE): token i of an axis sits at
shift + i x scale instead of i, for frames (t), rows (y) and columns (x) apart.

ChronoEdit (a Wan 2.1 image-to-video model fine-tuned to edit a picture as a two-latent-frame video) is
run with scale_t 7: its frames sit at 0 and 7, which is where diffusers' ChronoEditRotaryPosEmbed puts
them (the first and last of `temporal_skip_len` 8). With every scale 1 and shift 0 the positions are
WanRotaryPosEmbed's own.

diffusers' WanRotaryPosEmbed reads a table of whole positions 0..max; the scaled positions' angles are
made the same way (`get_1d_rotary_pos_embed` at float64 on the positions themselves) and handed to the
transformer in place of the table's through a forward hook on its `rope`, for one call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")


def _axis(dim: int, count: int, scale: float, shift: float, theta: float) -> tuple[Any, Any]:
    from diffusers.models.embeddings import get_1d_rotary_pos_embed

    positions = shift + torch.arange(count, dtype=torch.float64) * scale
    return get_1d_rotary_pos_embed(dim, positions, theta, use_real=True, repeat_interleave_real=True,
                                   freqs_dtype=torch.float64)


def positions(rope: Any, frames: int, rows: int, cols: int, options: tuple[float, ...],
              theta: float = 10000.0) -> tuple[Any, Any]:
    """(cos, sin) [1, tokens, 1, head width] for a frames x rows x cols token grid under `options`
    (scale_x, shift_x, scale_y, shift_y, scale_t, shift_t), laid out as WanRotaryPosEmbed lays its own."""
    scale_x, shift_x, scale_y, shift_y, scale_t, shift_t = options
    parts = [_axis(rope.t_dim, frames, scale_t, shift_t, theta), _axis(rope.h_dim, rows, scale_y, shift_y, theta),
             _axis(rope.w_dim, cols, scale_x, shift_x, theta)]
    shapes = ((frames, 1, 1, -1), (1, rows, 1, -1), (1, 1, cols, -1))
    out = []
    for which in (0, 1):
        grids = [part[which].view(*shape).expand(frames, rows, cols, -1) for part, shape in zip(parts, shapes)]
        out.append(torch.cat(grids, dim=-1).reshape(1, frames * rows * cols, 1, -1))
    return out[0], out[1]


@contextlib.contextmanager
def scaled(rope: Any, options: tuple[float, ...] | None) -> Iterator[None]:
    """While inside, `rope` (a WanRotaryPosEmbed) gives the scaled positions; nothing changes for None."""
    if options is None:
        yield
        return

    def hook(module: Any, args: tuple, output: Any) -> Any:
        _, _, frames, height, width = args[0].shape
        p_t, p_h, p_w = module.patch_size
        cos, sin = positions(module, frames // p_t, height // p_h, width // p_w, options)
        return cos.to(output[0]), sin.to(output[1])

    handle = rope.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()
