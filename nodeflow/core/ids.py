"""The order of node and group ids: numeric ids in number order, then the others by text.

Workflow files, validation's problem lists and the plan's order all follow it, so a file saves
and a graph checks the same way on every machine.
"""

from __future__ import annotations

from collections.abc import Iterable


def id_sort_key(item_id: str) -> tuple[int, int, str]:
    """Numeric ids in number order, then the others by text. Only ASCII digits make a number:
    "²" and "٣" pass `str.isdigit` but are ids like any other text."""
    return (0, int(item_id), "") if item_id.isascii() and item_id.isdigit() else (1, 0, item_id)


def sorted_ids(ids: Iterable[str]) -> list[str]:
    """`ids` in `id_sort_key` order, fast for many: numeric ids sort by their number in one pass
    of C-level int keys, the others by text after them (equal numbers keep their order)."""
    numeric, other = [], []
    for item_id in ids:
        (numeric if item_id.isascii() and item_id.isdigit() else other).append(item_id)
    return sorted(numeric, key=int) + sorted(other)
