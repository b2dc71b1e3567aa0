"""A user's own drop-down options (ComfyUI's Custom Combo), kept as text: one option per line.

The node, the importer and the exporter all read the option list here, so they agree on what an
option is: every non-empty line, spaces kept ("3s " is an option of its own).
"""

from __future__ import annotations


def option_lines(text: str) -> list[str]:
    """The options written in `text`, one per line, empty lines skipped."""
    return [line for line in text.split("\n") if line]
