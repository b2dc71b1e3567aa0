"""Undo commands for subgraphs: convert a selection, detach an instance, a new definition version.

Like the other commands (`gui.commands`) they change only the core model, through the functions
of `core.subgraphs.edit`, and keep snapshots of what they replace: the nodes and links a
conversion took, the definitions and instances a revision changed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from nodeflow.core.graph import Graph, Link, NodeRecord
from nodeflow.core.subgraphs.definition import Definition, instance_type
from nodeflow.core.subgraphs.edit import convert_to_subgraph, detach, revise


def _touching(graph: Graph, node_ids: set[str]) -> list[Link]:
    return [link for link in graph.links.values() if link.src in node_ids or link.dst in node_ids]


def _put_back(graph: Graph, records: list[NodeRecord], links: list[Link]) -> None:
    """Re-insert nodes exactly as snapshotted, their links once all of them are in."""
    for i, record in enumerate(records):
        graph.insert_record(copy.deepcopy(record), links if i == len(records) - 1 else [])


class ConvertToSubgraph(QUndoCommand):
    def __init__(self, graph: Graph, node_ids: list[str], name: str):
        super().__init__(f"Convert to subgraph '{name}'")
        self.graph, self.name = graph, name
        self.before = [copy.deepcopy(graph.node(i)) for i in node_ids]
        self.before_links = _touching(graph, set(node_ids))
        self.instance: tuple[NodeRecord, list[Link]] | None = None
        self.definition: Definition | None = None

    def redo(self) -> None:
        if self.instance is None:
            instance_id = convert_to_subgraph(self.graph, [r.id for r in self.before], self.name)
            record = self.graph.nodes[instance_id]
            self.definition = copy.deepcopy(self.graph.subgraphs[record.type.split("/", 1)[1]])
            self.instance = (copy.deepcopy(record), _touching(self.graph, {instance_id}))
            return
        assert self.definition is not None
        for record in self.before:
            self.graph.remove_node(record.id)
        self.graph.subgraphs[self.definition.id] = copy.deepcopy(self.definition)
        _put_back(self.graph, [self.instance[0]], self.instance[1])

    def undo(self) -> None:
        assert self.instance is not None and self.definition is not None
        self.graph.remove_node(self.instance[0].id)
        del self.graph.subgraphs[self.definition.id]
        _put_back(self.graph, self.before, self.before_links)

    @property
    def instance_id(self) -> str:
        assert self.instance is not None
        return self.instance[0].id


class Detach(QUndoCommand):
    def __init__(self, graph: Graph, node_id: str):
        super().__init__("Detach subgraph")
        self.graph, self.node_id = graph, node_id
        self.old_type = graph.node(node_id).type
        self.old_version = graph.node(node_id).version
        self.copy: Definition | None = None

    def redo(self) -> None:
        if self.copy is None:
            self.copy = copy.deepcopy(detach(self.graph, self.node_id))
            return
        self.graph.subgraphs[self.copy.id] = copy.deepcopy(self.copy)
        self._retype(instance_type(self.copy.id), 1)

    def undo(self) -> None:
        assert self.copy is not None
        self._retype(self.old_type, self.old_version)
        del self.graph.subgraphs[self.copy.id]

    def _retype(self, type_id: str, version: int) -> None:
        record, links = self.graph.remove_node(self.node_id)
        record.type, record.version = type_id, version
        self.graph.insert_record(record, links)


class ReviseDefinition(QUndoCommand):
    """A new version of one definition (sockets, promoted widgets) with its instances carried;
    `after` runs after redo and undo (an open editing view reloads)."""

    def __init__(self, graph: Graph, new: Definition, text: str, rename_inputs: dict[str, str] | None = None,
                 rename_outputs: dict[str, str] | None = None, after: Callable[[], None] | None = None):
        super().__init__(text)
        self.graph, self.new = graph, copy.deepcopy(new)
        self.renames = (dict(rename_inputs or {}), dict(rename_outputs or {}))
        self.after = after or (lambda: None)
        self.definitions = copy.deepcopy(graph.subgraphs)
        ids = {i for i, r in graph.nodes.items() if r.type == instance_type(new.id)}
        self.instances = [copy.deepcopy(graph.nodes[i]) for i in sorted(ids)]
        self.instance_links = _touching(graph, ids)
        self.lost: list[str] = []

    def redo(self) -> None:
        self.lost = revise(self.graph, self.new, *self.renames)
        self.after()

    def undo(self) -> None:
        for record in self.instances:
            self.graph.remove_node(record.id)
        self.graph.subgraphs.clear()
        self.graph.subgraphs.update(copy.deepcopy(self.definitions))
        _put_back(self.graph, self.instances, self.instance_links)
        self.graph.changed.emit()
        self.after()
