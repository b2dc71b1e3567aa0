"""One ComfyUI class's mapping (`Entry`) and the markers its widget lists use.

The tables beside this module declare the entries, one module per area; `classmap` joins them and
answers lookups. See `classmap`'s docstring for what each field of an entry means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nodeflow.interop.comfyui import convert

#: Marks the control_after_generate position in `widgets` (never sent to ComfyUI's API).
CONTROL = "control_after_generate"
#: Marks LoadImage's upload button position in `widgets` (saved as "image", or missing).
UPLOAD = "upload"
#: Marks a read-only display widget (PreviewAny's preview panes): saved by the UI, never a value.
SHOWN = "shown"


@dataclass(frozen=True)
class Entry:
    comfy: str
    node: str
    widgets: tuple[str, ...] = ()
    inputs: Mapping[str, str] = field(default_factory=dict)
    outputs: tuple[str | None, ...] = ()
    fixed: Mapping[str, Any] = field(default_factory=dict)
    variants: tuple[str, Mapping[str, tuple[str, ...]]] | None = None
    values: Callable[[dict[str, Any], convert.Notes], dict[str, Any]] | None = None
    export: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def widgets_for(self, values: list[Any]) -> tuple[str, ...]:
        """The widget order of a node saved with `values` (its choice's widgets put in)."""
        if self.variants is None:
            return self.widgets
        chooser, choices = self.variants
        at = self.widgets.index(chooser)
        chosen = values[at] if at < len(values) and isinstance(values[at], str) else ""
        return self.widgets[:at + 1] + tuple(choices.get(chosen, ())) + self.widgets[at + 1:]

    def widget_names(self, values: list[Any]) -> tuple[str, ...]:
        return tuple(w for w in self.widgets_for(values) if w not in (CONTROL, UPLOAD, SHOWN) and not w.endswith("*"))


def same(*names: str) -> dict[str, str]:
    """Inputs that keep their ComfyUI names."""
    return {name: name for name in names}

