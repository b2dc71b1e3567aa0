"""Upscale models through spandrel: loading (safetensors or weights-only pickles) and tiled running.

spandrel recognises the architecture (ESRGAN, Real-ESRGAN compact, SwinIR, HAT, ...) from the
weights alone and pads inputs to what the architecture needs. Big pictures are cut into
overlapping tiles; each tile's result is blended into the output with weights that fade in
linearly across the overlap, so seams do not show. Progress is reported per tile, and a cancel
stops between tiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.values import UpscaleModel

torch = lazy("torch")

#: Smallest tile tried after running out of memory (pixels).
MIN_TILE = 64


def load_upscale_model(path: Path, device: str, place: str | None = None) -> UpscaleModel:
    """A spandrel ImageModelDescriptor for `device`, its weights at `place` (default: `device`), or
    NodeError naming what is wrong."""
    try:
        from spandrel import ImageModelDescriptor, ModelLoader, UnsupportedModelError
    except Exception as exc:  # missing, or a torchvision built for another torch (RuntimeError)
        raise NodeError(f"upscale models need spandrel and a torchvision matching torch {torch.__version__} "
                        f"(pip install -c constraints.txt -e \".[upscale]\"): {type(exc).__name__}: {exc}",
                        "model_name") from None

    from nodes.models._checkpoint import read_state_dict

    try:
        state = read_state_dict(path)
    except NodeError as exc:
        raise NodeError(str(exc), "model_name") from None
    try:
        descriptor = ModelLoader().load_from_state_dict(state)
    except UnsupportedModelError:
        raise NodeError(f"{path.name}: spandrel does not recognise this model's architecture", "model_name") from None
    except (KeyError, ValueError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name} as an upscale model: {exc}", "model_name") from None
    if not isinstance(descriptor, ImageModelDescriptor):
        raise NodeError(f"{path.name} is a {descriptor.architecture.name} model, not an image-to-image "
                        "(upscale) model", "model_name")
    if descriptor.input_channels != 3:
        raise NodeError(f"{path.name} takes {descriptor.input_channels}-channel pictures; only RGB models "
                        "are supported", "model_name")
    from nodes.models._precision import settle

    settle(descriptor.model, place or device)
    if str(device).startswith("cuda") and descriptor.supports_half:
        descriptor.half()
    return UpscaleModel(descriptor, descriptor.model)


def _positions(size: int, tile: int, overlap: int) -> list[int]:
    """Tile starts covering `size` with tiles of `tile` overlapping by at least `overlap`."""
    if size <= tile:
        return [0]
    starts, p = [], 0
    while True:
        starts.append(min(p, size - tile))
        if p + tile >= size:
            return starts
        p += tile - overlap


def _blend_weight(h: int, w: int, ramp: int, edges: tuple[bool, bool, bool, bool]) -> Any:
    """[1, 1, h, w] weights: 1 inside, fading linearly over `ramp` pixels at the edges flagged
    (top, bottom, left, right) because a neighbouring tile overlaps there."""
    weight = torch.ones((1, 1, h, w))
    steps = torch.arange(1, ramp + 1, dtype=torch.float32) / (ramp + 1)
    top, bottom, left, right = edges
    n = min(ramp, h)
    if top:
        weight[..., :n, :] *= steps[:n, None]
    if bottom:
        weight[..., h - n:, :] *= steps[:n].flip(0)[:, None]
    n = min(ramp, w)
    if left:
        weight[..., :n] *= steps[:n]
    if right:
        weight[..., w - n:] *= steps[:n].flip(0)
    return weight


def upscale_image(ctx: RunContext, upscaler: UpscaleModel, image: Any, tile: int, overlap: int) -> Any:
    """IMAGE [B, H, W, 3] -> [B, H*s, W*s, 3], in tiles of `tile` pixels (0: whole picture)."""
    descriptor = upscaler.descriptor
    while True:
        try:
            return _run(ctx, descriptor, image, tile, overlap)
        except torch.OutOfMemoryError:
            if tile and tile // 2 < MIN_TILE:
                raise
            tile = tile // 2 if tile else max(image.shape[1], image.shape[2]) // 2
            overlap = min(overlap, tile // 4)
            ctx.warn(f"out of memory; retrying with {tile}-pixel tiles")


def _run(ctx: RunContext, descriptor: Any, image: Any, tile: int, overlap: int) -> Any:
    from spandrel import ModelTiling

    param = next(descriptor.model.parameters())
    x = image[..., :3].permute(0, 3, 1, 2).to(device=param.device, dtype=param.dtype)
    b, _, h, w = x.shape
    s = descriptor.scale
    whole = not tile or (h <= tile and w <= tile) or descriptor.tiling == ModelTiling.INTERNAL
    rows = [0] if whole else _positions(h, tile, overlap)
    cols = [0] if whole else _positions(w, tile, overlap)
    th, tw = (h, w) if whole else (min(tile, h), min(tile, w))
    out = torch.zeros((b, 3, h * s, w * s))
    total_weight = torch.zeros((1, 1, h * s, w * s))
    done, count = 0, len(rows) * len(cols)
    with torch.no_grad():
        for y in rows:
            for x0 in cols:
                result = descriptor(x[..., y:y + th, x0:x0 + tw]).float().cpu()
                edges = (y > 0, y + th < h, x0 > 0, x0 + tw < w)
                weight = _blend_weight(th * s, tw * s, overlap * s, edges)
                out[..., y * s:(y + th) * s, x0 * s:(x0 + tw) * s] += result * weight
                total_weight[..., y * s:(y + th) * s, x0 * s:(x0 + tw) * s] += weight
                done += 1
                ctx.progress(done, count)
    return (out / total_weight).clamp(0.0, 1.0).permute(0, 2, 3, 1).contiguous()
