"""Custom Combo: a drop-down whose options the user writes (ComfyUI's CustomCombo)."""

from __future__ import annotations

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.choices import option_lines
from nodeflow.core.errors import shown
from nodeflow.core.types import INT, STRING


class CustomCombo(Node):
    type_id = "basic.custom_combo"
    title = "Custom Combo"
    category = "basic"
    pure = True
    description = ("A choice among options the user writes, one per line (ComfyUI's Custom Combo): passes on "
                   "the chosen text and its place among the options (0 for the first).")
    inputs = (
        Input("choice", STRING, default="", help="the option passed on; one of the options when there are any"),
        Input("options", STRING, default="", multiline=True, help="one option per line; empty lines are skipped"),
    )
    outputs = (Output("text", STRING), Output("index", INT))

    def run(self, ctx: RunContext, choice: str, options: str) -> tuple[str, int]:
        listed = option_lines(options)
        if not listed:
            return choice, 0  # ComfyUI's index before any option is written
        if choice not in listed:
            raise NodeError(f"'{shown(choice, 60)}' is not one of the {len(listed)} options "
                            f"({shown(', '.join(listed), 80)})", "choice")
        return choice, listed.index(choice)
