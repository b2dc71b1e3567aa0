"""Switches: pass on one of two values, evaluating only the branch taken (lazy inputs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import ANY, BOOLEAN


class Switch(Node):
    type_id = "basic.switch"
    title = "Switch"
    category = "basic"
    description = ("Passes on 'on_true' when 'switch' is on, else 'on_false', for any type. Only the "
                   "branch taken runs: the nodes feeding the other are not planned, loaded or run, "
                   "and the branch not taken may be left unlinked (ComfyUI's ComfySwitchNode).")
    inputs = (
        Input("on_false", ANY, optional=True, lazy=True, help="passed on when the switch is off"),
        Input("on_true", ANY, optional=True, lazy=True, help="passed on when the switch is on"),
        Input("switch", BOOLEAN, default=False),
    )
    outputs = (Output("output", ANY),)

    @classmethod
    def lazy_needs(cls, values: Mapping[str, Any]) -> tuple[str, ...]:
        return ("on_true",) if values.get("switch") else ("on_false",)

    def run(self, ctx: RunContext, on_false: Any, on_true: Any, switch: bool) -> tuple[Any]:
        name = "on_true" if switch else "on_false"
        value = on_true if switch else on_false
        if value is None:
            raise NodeError(f"the switch is {'on' if switch else 'off'}, but nothing is linked to '{name}'", name)
        return (value,)
