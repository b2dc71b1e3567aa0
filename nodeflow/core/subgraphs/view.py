"""A definition opened for editing: a graph of its inner nodes plus two boundary nodes.

The boundary nodes have the definition's reserved ids (`@in`, `@out`), so the view's links are
the definition's links as they are: a wire from `@in`'s output `model` is the link from the exposed
input `model`. The view shares the workflow's definitions (nested instances show their sockets)
and every edit of it is written back into the definition at once (`DefinitionView.sync`), so
every instance in the workflow follows while the user edits. Qt-free: the editor shows the view
graph on its canvas and edits it through the same undo commands as any graph.
"""

from __future__ import annotations

from nodeflow.core.graph import Graph, Group, Link, NodeRecord
from nodeflow.core.subgraphs.definition import BOUNDARY_IDS, BOUNDARY_IN, BOUNDARY_OUT, Definition
from nodeflow.core.subgraphs.overlay import BOUNDARY_IN_TYPE, BOUNDARY_OUT_TYPE, SubgraphRegistry


class DefinitionView:
    """The editing graph of `workflow.subgraphs[definition_id]`, kept written back."""

    def __init__(self, workflow: Graph, definition_id: str):
        self.workflow, self.definition_id = workflow, definition_id
        self.graph = Graph(workflow.registry)
        self.graph.subgraphs = workflow.subgraphs
        self.graph.registry = SubgraphRegistry(workflow.registry, workflow.subgraphs)
        self.graph.manifest = workflow.manifest
        self._loading = False
        self._fill()
        self.graph.changed.connect(self.sync)

    def _fill(self) -> None:
        self.graph.fill(*self._contents())

    def _contents(self) -> tuple[dict[str, NodeRecord], list[Link], list[Group]]:
        """The definition's nodes (the same records: an edit of one is an edit of both), links and
        groups, with the two boundary nodes placed left and right of them."""
        definition = self.definition
        positions = [r.ui["pos"] for r in definition.nodes.values() if isinstance(r.ui.get("pos"), list)]
        left = min((p[0] for p in positions), default=0.0)
        right = max((p[0] for p in positions), default=0.0)
        top = min((p[1] for p in positions), default=0.0)
        nodes = {BOUNDARY_IN: NodeRecord(BOUNDARY_IN, BOUNDARY_IN_TYPE + definition.id, 1, {},
                                         {"pos": [left - 260, top]}),
                 BOUNDARY_OUT: NodeRecord(BOUNDARY_OUT, BOUNDARY_OUT_TYPE + definition.id, 1, {},
                                          {"pos": [right + 320, top]})}
        return nodes | definition.nodes, list(definition.links.values()), list(definition.groups)

    def reload(self) -> None:
        """Show the definition again after it was replaced (a new version, an undo), with signals,
        so a canvas showing the view rebuilds."""
        self._loading = True
        try:
            for node_id in list(self.graph.nodes):
                self.graph.remove_node(node_id)
            for group_id in list(self.graph.groups):
                self.graph.remove_group(group_id)
            records, links, groups = self._contents()
            for group in groups:
                self.graph.insert_group(group)
            for i, record in enumerate(records.values()):
                self.graph.insert_record(record, links if i == len(records) - 1 else [])
        finally:
            self._loading = False

    @property
    def definition(self) -> Definition:
        return self.workflow.subgraphs[self.definition_id]

    def sync(self) -> None:
        """Write the view back into the definition (nodes, links, groups; not the boundary)."""
        definition = self.workflow.subgraphs.get(self.definition_id)
        if definition is None or self._loading:
            return
        definition.nodes = {k: v for k, v in self.graph.nodes.items() if k not in BOUNDARY_IDS}
        definition.links = dict(self.graph.links)
        definition.groups = list(self.graph.groups.values())
        self.workflow.changed.emit()
