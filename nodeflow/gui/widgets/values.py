"""Value rules shared by the painted node widgets and the inspector: steps, drags, seeds, text.

Plain functions of an `Input` declaration and a value, tested without any widget.
"""

from __future__ import annotations

import random
from typing import Any

from nodeflow.core.spec import Input
from nodeflow.core.types import SEED_MAX

SEED_MODES = ("fixed", "increment", "decrement", "randomize")
DRAG_PIXELS_PER_STEP = 6.0


def step_of(inp: Input) -> float:
    if inp.step:
        return inp.step
    if inp.type == "INT":
        return 1
    if inp.min is not None and inp.max is not None:
        return max((inp.max - inp.min) / 100.0, 1e-6)
    return 0.1


def clamp(inp: Input, value: float) -> float:
    if inp.min is not None:
        value = max(inp.min, value)
    if inp.max is not None:
        value = min(inp.max, value)
    return value


def _typed(inp: Input, value: float) -> Any:
    value = clamp(inp, value)
    if inp.type == "INT":
        return int(round(value))
    step = step_of(inp)
    decimals = max(0, len(f"{step:g}".split(".")[1]) if "." in f"{step:g}" else 0)
    return round(float(value), max(decimals, 2))


def stepped(inp: Input, value: float, direction: int) -> Any:
    """The value one step up (+1) or down (-1), within bounds."""
    return _typed(inp, float(value) + direction * step_of(inp))


def dragged(inp: Input, start: float, dx_pixels: float) -> Any:
    """Drag-to-change: one step every few pixels of horizontal mouse movement."""
    steps = int(dx_pixels / DRAG_PIXELS_PER_STEP)
    return _typed(inp, float(start) + steps * step_of(inp))


def is_slider(inp: Input) -> bool:
    return inp.type == "FLOAT" and inp.min is not None and inp.max is not None


def slider_fraction(inp: Input, value: float) -> float:
    assert inp.min is not None and inp.max is not None
    span = inp.max - inp.min
    return 0.0 if span <= 0 else (float(value) - inp.min) / span


def from_fraction(inp: Input, fraction: float) -> Any:
    assert inp.min is not None and inp.max is not None
    fraction = min(1.0, max(0.0, fraction))
    raw = inp.min + fraction * (inp.max - inp.min)
    step = step_of(inp)
    return _typed(inp, inp.min + round((raw - inp.min) / step) * step)


def seed_mode(ui: dict[str, Any], name: str) -> str:
    """What happens to seed parameter `name` after a run, from a node's `ui["seed_control"]`."""
    mode = (ui.get("seed_control") or {}).get(name, "fixed")
    return mode if mode in SEED_MODES else "fixed"


def with_seed_mode(ui: dict[str, Any], name: str, mode: str) -> dict[str, str] | None:
    """The node's new `seed_control` after setting one seed's mode; None when nothing is left.

    "fixed" is the default, so it is stored by leaving the name out: a node whose seeds are all
    fixed has no `seed_control` key, and files that never used it keep their bytes.
    """
    if mode not in SEED_MODES:
        raise ValueError(f"seed mode must be one of {', '.join(SEED_MODES)}")
    modes = dict(ui.get("seed_control") or {})
    if mode == "fixed":
        modes.pop(name, None)
    else:
        modes[name] = mode
    return modes or None


def next_seed(mode: str, value: int, rng: random.Random | None = None) -> int:
    """The seed after a run: ComfyUI's control_after_generate."""
    if mode == "increment":
        return (value + 1) % (SEED_MAX + 1)
    if mode == "decrement":
        return value - 1 if value > 0 else SEED_MAX
    if mode == "randomize":
        return (rng or random).randint(0, 2**32 - 1)
    return value


def display(inp: Input | None, value: Any) -> str:
    """A parameter value as the node shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        step = step_of(inp) if inp is not None else 0.01
        digits = max(2, len(f"{step:g}".split(".")[1]) if "." in f"{step:g}" else 0)
        return f"{value:.{min(digits, 6)}f}"
    text = str(value)
    if inp is not None and inp.file and len(text) > 28:
        return "…" + text[-27:]
    return text
