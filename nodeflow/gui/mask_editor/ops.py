"""What the mask editor's tools do to the mask, as plain numpy on an 8-bit array (255 = repaint).

Kept apart from the widgets so each tool's effect on pixels is decided (and testable) in one place;
the view only turns mouse positions into calls here.
"""

from __future__ import annotations

import math

import numpy as np

PAINT, ERASE = 255, 0


def brush_alpha(radius: float, hardness: float, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Coverage in [0, 1] of a round brush at offsets (dx, dy) from its centre.

    Full inside `radius * hardness`, falling linearly to 0 at `radius`: hardness 1 is a hard-edged
    disc, hardness 0 a soft cone.
    """
    distance = np.hypot(dx, dy)
    inner = radius * min(max(hardness, 0.0), 1.0)
    if radius - inner < 1e-6:
        return (distance <= radius).astype(np.float32)
    return np.clip((radius - distance) / (radius - inner), 0.0, 1.0).astype(np.float32)


def stamp(mask: np.ndarray, x: float, y: float, radius: float, hardness: float, value: int) -> None:
    """One dab of the brush (value 255) or eraser (value 0) centred on pixel coordinates (x, y).

    Painting only raises pixels and erasing only lowers them, so going over a stroke again never
    undoes its soft edge.
    """
    h, w = mask.shape
    x0, x1 = max(0, math.floor(x - radius)), min(w, math.ceil(x + radius) + 1)
    y0, y1 = max(0, math.floor(y - radius)), min(h, math.ceil(y + radius) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1]
    alpha = brush_alpha(radius, hardness, xs + 0.5 - x, ys + 0.5 - y)
    region = mask[y0:y1, x0:x1]
    if value == PAINT:
        np.maximum(region, np.rint(alpha * 255).astype(np.uint8), out=region)
    else:
        np.minimum(region, np.rint((1.0 - alpha) * 255).astype(np.uint8), out=region)


def stroke(mask: np.ndarray, start: tuple[float, float], end: tuple[float, float], radius: float,
           hardness: float, value: int) -> None:
    """Dabs from `start` to `end`, close enough together (a quarter radius) to look continuous."""
    (ax, ay), (bx, by) = start, end
    length = math.hypot(bx - ax, by - ay)
    spacing = max(0.5, radius / 4)
    count = max(1, math.ceil(length / spacing))
    for i in range(1, count + 1):
        t = i / count
        stamp(mask, ax + (bx - ax) * t, ay + (by - ay) * t, radius, hardness, value)


def flood_fill(mask: np.ndarray, x: int, y: int, value: int = PAINT) -> int:
    """Set the connected area around (x, y) that is on the same side of 50% to `value`.

    A scanline fill: each horizontal run is found with numpy and filled once, so filling a large
    area costs a few thousand numpy calls rather than one Python step per pixel. Returns the number
    of pixels changed.
    """
    h, w = mask.shape
    if not (0 <= x < w and 0 <= y < h):
        return 0
    inside = mask >= 128 if mask[y, x] >= 128 else mask < 128
    done = np.zeros_like(inside)
    todo = [(x, y)]
    while todo:
        sx, sy = todo.pop()
        if done[sy, sx] or not inside[sy, sx]:
            continue
        row = inside[sy] & ~done[sy]
        left = sx - _run_length(row[sx::-1]) + 1
        right = sx + _run_length(row[sx:]) - 1
        done[sy, left:right + 1] = True
        for ny in (sy - 1, sy + 1):
            if 0 <= ny < h:
                open_ = inside[ny, left:right + 1] & ~done[ny, left:right + 1]
                starts = np.flatnonzero(open_ & ~np.concatenate(([False], open_[:-1])))
                todo.extend((left + int(s), ny) for s in starts)
    changed = int(np.count_nonzero(mask[done] != value))
    mask[done] = value
    return changed


def _run_length(flags: np.ndarray) -> int:
    """How many leading entries of `flags` are True."""
    stop = np.flatnonzero(~flags)
    return int(stop[0]) if stop.size else int(flags.size)


def invert(mask: np.ndarray) -> None:
    np.subtract(255, mask, out=mask)


def clear(mask: np.ndarray) -> None:
    mask[...] = 0
