"""Undo commands. Each one only calls methods of the core Graph, and keeps what it needs to undo.

Deleted nodes are kept as `NodeRecord` + `Link` snapshots (the graph's own data, like QtNodes'
JSON snapshots). Consecutive edits of one parameter (typing, dragging a number) and consecutive
nudges of the same nodes merge into one step through `mergeWith`.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from nodeflow.core.graph import Graph, Group, Link, NodeMode, NodeRecord

_PARAM_ID = 1001
_MOVE_ID = 1002
_GROUP_ID = 1003


def named(graph: Graph, node_ids: list[str]) -> str:
    """How an undo label names the nodes it changes: "Sampler (node 6)", or "3 nodes"."""
    if len(node_ids) != 1:
        return f"{len(node_ids)} nodes"
    node_id = node_ids[0]
    return f"{graph.title(node_id)} (node {node_id})" if node_id in graph.nodes else f"node {node_id}"


class AddNode(QUndoCommand):
    def __init__(self, graph: Graph, type_id: str, params: dict | None = None, ui: dict | None = None):
        cls = graph.registry.get(type_id)
        super().__init__(f"Add {cls.title if cls else type_id}")
        self.graph, self.type_id, self.params, self.ui = graph, type_id, params, ui
        self.record: NodeRecord | None = None

    @property
    def node_id(self) -> str:
        assert self.record is not None
        return self.record.id

    def redo(self) -> None:
        if self.record is None:
            self.record = copy.deepcopy(self.graph.add_node(self.type_id, self.params, self.ui))
        else:
            self.graph.insert_record(copy.deepcopy(self.record))

    def undo(self) -> None:
        self.graph.remove_node(self.node_id)


class InsertNodes(QUndoCommand):
    """Put in nodes with their links (paste, duplicate, a dropped workflow fragment)."""

    def __init__(self, graph: Graph, records: list[NodeRecord], links: list[Link], text: str = "Paste"):
        super().__init__(text)
        self.graph, self.records, self.links = graph, records, links

    def redo(self) -> None:
        for i, record in enumerate(self.records):
            last = i == len(self.records) - 1
            self.graph.insert_record(copy.deepcopy(record), self.links if last else [])

    def undo(self) -> None:
        for record in reversed(self.records):
            self.graph.remove_node(record.id)


class RemoveNodes(QUndoCommand):
    def __init__(self, graph: Graph, node_ids: list[str]):
        super().__init__(f"Delete {named(graph, node_ids)}")
        self.graph, self.node_ids = graph, list(node_ids)
        self.records: list[NodeRecord] = []
        self.links: list[Link] = []

    def redo(self) -> None:
        self.records, self.links = [], []
        for node_id in self.node_ids:
            record, links = self.graph.remove_node(node_id)
            self.records.append(record)
            self.links += links

    def undo(self) -> None:
        for i, record in enumerate(self.records):
            last = i == len(self.records) - 1
            self.graph.insert_record(record, self.links if last else [])


class Connect(QUndoCommand):
    """Wire an output to an input; undo puts back the link the input had before, if any."""

    def __init__(self, graph: Graph, src: str, src_output: str, dst: str, dst_input: str):
        super().__init__(f"Connect {named(graph, [src])} {src_output} → {named(graph, [dst])} {dst_input}")
        self.graph, self.args = graph, (src, src_output, dst, dst_input)
        self.old: Link | None = graph.link_into(dst, dst_input)

    def redo(self) -> None:
        self.graph.connect(*self.args)

    def undo(self) -> None:
        self.graph.disconnect(self.args[2], self.args[3])
        if self.old is not None:
            self.graph.connect(self.old.src, self.old.src_output, self.old.dst, self.old.dst_input)


class Disconnect(QUndoCommand):
    def __init__(self, graph: Graph, dst: str, dst_input: str):
        super().__init__(f"Disconnect {dst_input} of {named(graph, [dst])}")
        self.graph, self.dst, self.dst_input = graph, dst, dst_input
        self.old: Link | None = graph.link_into(dst, dst_input)

    def redo(self) -> None:
        self.graph.disconnect(self.dst, self.dst_input)

    def undo(self) -> None:
        if self.old is not None:
            self.graph.connect(self.old.src, self.old.src_output, self.old.dst, self.old.dst_input)


class SetParam(QUndoCommand):
    """Change a parameter. Consecutive changes of one field that share a `merge` token (one drag,
    one typing session) are one undo step; `merge=None` never merges."""

    def __init__(self, graph: Graph, node_id: str, name: str, value: Any, merge: object = None):
        super().__init__(f"Edit {name} of {named(graph, [node_id])}")
        self.graph, self.node_id, self.name = graph, node_id, name
        self.old = graph.node(node_id).params.get(name)
        self.new = value
        self.merge = merge

    def id(self) -> int:
        return _PARAM_ID if self.merge is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParam) or other.merge is None or other.merge is not self.merge:
            return False
        if (other.node_id, other.name) != (self.node_id, self.name):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.new = self.graph.set_param(self.node_id, self.name, self.new)

    def undo(self) -> None:
        if self.old is None:
            self.graph.unset_param(self.node_id, self.name)
        else:
            self.graph.set_param(self.node_id, self.name, self.old)


class SetUi(QUndoCommand):
    """Change layout fields of one node (title, colour, collapsed, widget_inputs, size)."""

    def __init__(self, graph: Graph, node_id: str, text: str = "Edit", **values: Any):
        super().__init__(f"{text} {named(graph, [node_id])}")
        self.graph, self.node_id = graph, node_id
        ui = graph.node(node_id).ui
        self.old = {k: copy.deepcopy(ui.get(k)) for k in values}
        self.new = values

    def redo(self) -> None:
        self.graph.set_ui(self.node_id, **self.new)

    def undo(self) -> None:
        self.graph.set_ui(self.node_id, **self.old)


class MoveNodes(QUndoCommand):
    """Move nodes (and group frames) to new positions; nudges of the same items merge."""

    def __init__(self, graph: Graph, moves: dict[str, tuple[list[float] | None, list[float]]],
                 group_moves: dict[str, tuple[list[float], list[float]]] | None = None,
                 merge: bool = False):
        super().__init__(f"Move {named(graph, list(moves)) if moves else 'group'}")
        self.graph, self.moves, self.group_moves = graph, moves, group_moves or {}
        self.merge = merge

    def id(self) -> int:
        return _MOVE_ID if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveNodes) or not other.merge:
            return False
        if set(other.moves) != set(self.moves) or set(other.group_moves) != set(self.group_moves):
            return False
        self.moves = {k: (self.moves[k][0], other.moves[k][1]) for k in self.moves}
        self.group_moves = {k: (self.group_moves[k][0], other.group_moves[k][1]) for k in self.group_moves}
        return True

    def redo(self) -> None:
        for node_id, (_old, new) in self.moves.items():
            self.graph.set_ui(node_id, pos=list(new))
        for group_id, (_old, new) in self.group_moves.items():
            self.graph.set_group(group_id, rect=list(new))

    def undo(self) -> None:
        for node_id, (old, _new) in self.moves.items():
            self.graph.set_ui(node_id, pos=list(old) if old is not None else None)
        for group_id, (old, _new) in self.group_moves.items():
            self.graph.set_group(group_id, rect=list(old))


class SetMode(QUndoCommand):
    def __init__(self, graph: Graph, node_ids: list[str], mode: str):
        verb = {NodeMode.MUTED: "Mute", NodeMode.BYPASS: "Bypass"}.get(NodeMode(mode))
        old = {graph.node(i).mode for i in node_ids}
        verb = verb or ("Unmute" if old == {NodeMode.MUTED.value} else "Un-bypass" if old == {NodeMode.BYPASS.value}
                        else "Restore")
        super().__init__(f"{verb} {named(graph, node_ids)}")
        self.graph, self.mode = graph, mode
        self.old = {i: graph.node(i).mode for i in node_ids}

    def redo(self) -> None:
        for node_id in self.old:
            self.graph.set_mode(node_id, self.mode)

    def undo(self) -> None:
        for node_id, mode in self.old.items():
            self.graph.set_mode(node_id, mode)


class AddGroup(QUndoCommand):
    """Add a frame. Naming it right after (Ctrl+G opens its title for typing) folds into this
    step, so one undo removes the frame instead of first giving it back its "Group" title."""

    def __init__(self, graph: Graph, title: str, rect: list[float], color: str | None = None):
        super().__init__(f"Add group '{title}'")
        self.graph = graph
        self.group: Group | None = None
        self.args = (title, rect, color)

    def id(self) -> int:
        return _GROUP_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetGroup) or self.group is None or other.group_id != self.group.id:
            return False
        if set(other.new) != {"title"}:
            return False
        self.group.title = other.new["title"]
        self.setText(f"Add group '{self.group.title}'")
        return True

    def redo(self) -> None:
        if self.group is None:
            self.group = copy.deepcopy(self.graph.add_group(*self.args))
        else:
            self.graph.insert_group(copy.deepcopy(self.group))

    def undo(self) -> None:
        assert self.group is not None
        self.graph.remove_group(self.group.id)


class RemoveGroup(QUndoCommand):
    def __init__(self, graph: Graph, group_id: str):
        super().__init__(f"Delete group '{graph.groups[group_id].title}'")
        self.graph, self.group_id = graph, group_id
        self.group: Group | None = None

    def redo(self) -> None:
        self.group = self.graph.remove_group(self.group_id)

    def undo(self) -> None:
        assert self.group is not None
        self.graph.insert_group(self.group)


class SetGroup(QUndoCommand):
    def __init__(self, graph: Graph, group_id: str, **values: Any):
        super().__init__(f"{'Rename' if 'title' in values else 'Edit'} group '{graph.groups[group_id].title}'")
        self.graph, self.group_id = graph, group_id
        group = graph.groups[group_id]
        self.old = {k: copy.deepcopy(getattr(group, k)) for k in values}
        self.new = values

    def id(self) -> int:
        return _GROUP_ID if set(self.new) == {"title"} else -1

    def redo(self) -> None:
        self.graph.set_group(self.group_id, **self.new)

    def undo(self) -> None:
        self.graph.set_group(self.group_id, **self.old)
