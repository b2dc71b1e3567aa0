"""Which links[] row feeds each input of a UI workflow, decided the way ComfyUI decides it.

A UI file says every connection twice: as a row of `links` and as the link id the target input
names (`inputs[i].link`; a subgraph's output names its `linkIds`). ComfyUI's frontend reads an
input from the id the input names, looked up in `links` (`ExecutableNodeDTO.resolveInput`), and a
subgraph output from the first id it lists (`SubgraphNode.resolveSubgraphOutputLink`); its link
fixer, run on load, deletes the rows nothing names. So a second row into an input that names
another one is a leftover of an edit: it is dropped with a note, nothing the graph computes is lost.
What ComfyUI cannot resolve either stays a problem: an input that names a link `links` lacks while
another row goes into it, or several rows into an input that names none of them (the later row is
kept, as the importer always did).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: (link id, target node id, target slot) of one links[] row that passed the shape checks.
Row = tuple[Any, str, int]


def choose(rows: list[Row], named: Callable[[str, int], Any], label: Callable[[str, int], str],
           notes: list[str], problems: list[str]) -> set[int]:
    """Indexes into `rows` of the rows that become edges: one per input, the one the input names
    (`named(node, slot)`, None where it names none), else the last; `label(node, slot)` names the
    input in the lines this adds to `notes` and `problems`."""
    by_input: dict[tuple[str, int], list[int]] = {}
    for index, (_, dst, slot) in enumerate(rows):
        by_input.setdefault((dst, slot), []).append(index)
    kept = set()
    for (dst, slot), indexes in by_input.items():
        own = named(dst, slot)
        chosen = next((i for i in indexes if own is not None and rows[i][0] == own), None)
        if chosen is not None:
            notes += [f"{label(dst, slot)}: link {rows[i][0]} is left over from an edit (the input names link "
                      f"{own}, which ComfyUI uses); dropped" for i in indexes if i != chosen]
        else:
            chosen = indexes[-1]
            if own is not None:
                problems.append(f"{label(dst, slot)} lists link {own} but links[] has link {rows[chosen][0]} into "
                                "it; links[] wins")
            if len(indexes) > 1:
                ids = [str(rows[i][0]) for i in indexes]
                problems.append(f"{label(dst, slot)}: links {', '.join(ids[:-1])} and {ids[-1]} go into the same "
                                "input; the later one wins")
        kept.add(chosen)
    return kept


def first_listed(socket: Any, present: set[Any]) -> Any:
    """The link a subgraph output takes: the first of its definition socket's `linkIds` that is a
    row of links[] (`present`), or None where it lists none."""
    listed = socket.get("linkIds") if isinstance(socket, dict) else None
    return next((i for i in listed if i in present), None) if isinstance(listed, list) else None


def as_int(value: Any) -> int | None:
    """Slot indexes and ids may be ints, floats or digit strings in real files."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def link_rows(links: Any) -> list[tuple[Any, Any, Any, Any, Any]]:
    """(link id, origin id, origin slot, target id, target slot) from 0.4 arrays or schema-1 objects."""
    rows = []
    for link in links if isinstance(links, list) else []:
        if isinstance(link, list) and len(link) >= 5:
            rows.append(tuple(link[:5]))
        elif isinstance(link, dict):
            rows.append((link.get("id"), link.get("origin_id"), link.get("origin_slot"),
                         link.get("target_id"), link.get("target_slot")))
    return rows
