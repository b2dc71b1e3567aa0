"""Value rules shared by the painted node widgets and the inspector: steps, drags, sliders, text.

Plain functions of an `Input` declaration and a value, tested without any widget.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core.masks import mask_summary
from nodeflow.core.spec import Input

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
    if inp is not None and inp.widget == "mask":
        return mask_summary(text)
    if inp is not None and inp.file and len(text) > 28:
        return "…" + text[-27:]
    return text
