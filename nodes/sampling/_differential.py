"""Differential Diffusion (Levin & Fried 2023, "Differential Diffusion: Giving Each Pixel Its Strength"):
a soft inpainting mask read as a per-cell strength. At a step whose noise level lies a fraction
`progress` of the way from the run's last level (0) to its first (1), a cell is repainted when its
mask value is at least `progress`: cells at 1 change from the first step, cells at 0.3 only in the
last 30% of the schedule, cells at 0 never. `strength` below 1 mixes that binary mask with the soft
one (strength * binary + (1 - strength) * mask).
"""

from __future__ import annotations

from typing import Any


def step_mask(mask: Any, progress: float, strength: float) -> Any:
    """The mask used at a step `progress` of the way from the schedule's end (0) to its start (1)."""
    binary = (mask >= progress).to(mask.dtype)
    if strength >= 1.0:
        return binary
    return strength * binary + (1.0 - strength) * mask


def progress(timestep: float, first: float, last: float) -> float:
    """Where `timestep` lies between the run's `last` (0) and `first` (1) model timesteps."""
    return 1.0 if first == last else (timestep - last) / (first - last)
