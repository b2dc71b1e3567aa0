"""What the editor does with subgraphs, as document operations with undo.

Convert a selection, detach an instance, open a definition in place (the canvas then shows the
definition's editing view, `core.subgraphs.view`, and `trail` is the breadcrumb back), change the
open definition's exposed sockets and promoted widgets (each change is a new definition version,
every instance carried along), and the library of subgraph files. Views and menus call these; the
scene follows the graphs' signals as for any edit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from nodeflow.core.errors import GraphEditError, WorkflowFormatError
from nodeflow.core.graph import Graph, Link
from nodeflow.core.subgraphs.definition import (
    BOUNDARY_IN,
    BOUNDARY_OUT,
    Definition,
    Promoted,
    Socket,
    definition_id_of,
    instance_type,
)
from nodeflow.core.subgraphs.files import library_dir, load_subgraph, save_subgraph
from nodeflow.core.subgraphs.view import DefinitionView
from nodeflow.gui.document import Document
from nodeflow.gui.subgraph_commands import ConvertToSubgraph, Detach, ReviseDefinition


class PutDefinitions(QUndoCommand):
    """Add definitions a subgraph file brought (undo takes them out again)."""

    def __init__(self, graph: Graph, definitions: list[Definition]):
        super().__init__("Add subgraph definitions")
        self.graph, self.definitions = graph, [copy.deepcopy(d) for d in definitions]

    def redo(self) -> None:
        for definition in self.definitions:
            self.graph.subgraphs[definition.id] = copy.deepcopy(definition)
        self.graph.changed.emit()

    def undo(self) -> None:
        for definition in self.definitions:
            self.graph.subgraphs.pop(definition.id, None)
        self.graph.changed.emit()


class SubgraphEdits(QObject):
    trail_changed = Signal()  # the breadcrumb: opened or closed a definition

    def __init__(self, document: Document):
        super().__init__()
        self.document = document
        #: Definitions opened in place, outermost first (the breadcrumb after "Workflow").
        self.trail: list[str] = []
        self._views: dict[str, DefinitionView] = {}
        self._workflow = document.workflow
        document.graph_replaced.connect(self._graph_replaced)

    @property
    def workflow(self) -> Graph:
        return self.document.workflow

    def _graph_replaced(self) -> None:
        if self.document.workflow is not self._workflow:  # another file: nothing of the old one stays open
            self._workflow = self.document.workflow
            self._views.clear()
            if self.trail:
                self.trail.clear()
                self.trail_changed.emit()

    # -- instances -----------------------------------------------------------------------------

    def convert(self, node_ids: list[str], name: str) -> str | None:
        """Put the selected nodes into a new subgraph; the instance's id (None if refused)."""
        ids = [i for i in node_ids if i in self.document.graph.nodes and i not in (BOUNDARY_IN, BOUNDARY_OUT)]
        if not ids or not name.strip():
            return None
        command = ConvertToSubgraph(self.document.graph, ids, name.strip())
        self.document.undo.push(command)
        return command.instance_id

    def detach(self, node_id: str) -> str | None:
        """Give one instance its own copy of the definition; returns the refusal, if any."""
        try:
            self.definition_of(node_id)
        except GraphEditError as exc:
            return str(exc)
        self.document.undo.push(Detach(self.document.graph, node_id))
        return None

    def definition_of(self, node_id: str) -> Definition:
        record = self.document.graph.node(node_id)
        definition_id = definition_id_of(record.type)
        if definition_id is None or definition_id not in self.workflow.subgraphs:
            raise GraphEditError("is not an instance of a subgraph this workflow defines", node_id)
        return self.workflow.subgraphs[definition_id]

    # -- opening in place ----------------------------------------------------------------------

    def open(self, node_id: str) -> str | None:
        """Show the instance's definition on the canvas; returns the refusal, if any."""
        try:
            definition = self.definition_of(node_id)
        except GraphEditError as exc:
            return str(exc)
        if definition.id in self.trail:
            return f"subgraph '{definition.name}' is already open"
        self.trail.append(definition.id)
        self.document.show_graph(self._view(definition.id).graph)
        self.trail_changed.emit()
        return None

    def close(self, depth: int = -1) -> None:
        """Go back to breadcrumb level `depth` (0: the workflow; -1: one level up)."""
        if not self.trail:
            return
        depth = len(self.trail) - 1 if depth < 0 else depth
        del self.trail[depth:]
        self.document.show_graph(self._view(self.trail[-1]).graph if self.trail else self.workflow)
        self.trail_changed.emit()

    def names(self) -> list[str]:
        return [self.workflow.subgraphs[d].name for d in self.trail if d in self.workflow.subgraphs]

    def _view(self, definition_id: str) -> DefinitionView:
        view = self._views.get(definition_id)
        if view is None:
            view = self._views[definition_id] = DefinitionView(self.workflow, definition_id)
        return view

    def _reload_views(self) -> None:
        for definition_id, view in list(self._views.items()):
            if definition_id in self.workflow.subgraphs:
                view.reload()
            else:
                del self._views[definition_id]
        while self.trail and self.trail[-1] not in self.workflow.subgraphs:
            self.close()

    # -- the open definition's sockets and promoted widgets -------------------------------------

    @property
    def current(self) -> Definition | None:
        return self.workflow.subgraphs.get(self.trail[-1]) if self.trail else None

    def _revise(self, text: str, change: Callable[[Definition], None], rename_inputs: dict | None = None,
                rename_outputs: dict | None = None) -> str | None:
        if self.current is None:
            return "open a subgraph first (double-click an instance)"
        new = copy.deepcopy(self.current)
        try:
            change(new)
        except (GraphEditError, ValueError) as exc:
            return str(exc)
        self.document.undo.push(ReviseDefinition(self.workflow, new, text, rename_inputs, rename_outputs,
                                                 self._reload_views))
        return None

    def add_socket(self, side: str, name: str, type_: str) -> str | None:
        def change(d: Definition) -> None:
            sockets = d.inputs if side == "input" else d.outputs
            if any(s.name == name for s in sockets) or (side == "input" and d.widget(name)) or not name:
                raise ValueError(f"the subgraph already has an {side} named '{name}'")
            sockets.append(Socket(name, type_))
        return self._revise(f"Add {side} '{name}'", change)

    def remove_socket(self, side: str, name: str) -> str | None:
        def change(d: Definition) -> None:
            if side == "input":
                d.inputs = [s for s in d.inputs if s.name != name]
                d.links = {k: v for k, v in d.links.items() if (v.src, v.src_output) != (BOUNDARY_IN, name)}
            else:
                d.outputs = [s for s in d.outputs if s.name != name]
                d.links.pop((BOUNDARY_OUT, name), None)
        return self._revise(f"Remove {side} '{name}'", change)

    def rename_socket(self, side: str, old: str, new: str) -> str | None:
        def change(d: Definition) -> None:
            sockets = d.inputs if side == "input" else d.outputs
            if not new or any(s.name == new for s in sockets) or (side == "input" and d.widget(new)):
                raise ValueError(f"'{new}' is empty or already used")
            for socket in sockets:
                socket.name = new if socket.name == old else socket.name
            moved = {}
            for key, link in d.links.items():
                if side == "input" and (link.src, link.src_output) == (BOUNDARY_IN, old):
                    link = Link(BOUNDARY_IN, new, link.dst, link.dst_input, link.extra)
                if side == "output" and key == (BOUNDARY_OUT, old):
                    link = Link(link.src, link.src_output, BOUNDARY_OUT, new, link.extra)
                moved[(link.dst, link.dst_input)] = link
            d.links = moved
        renames = {old: new}
        return self._revise(f"Rename {side} '{old}'", change, renames if side == "input" else None,
                            renames if side == "output" else None)

    def move_socket(self, side: str, name: str, step: int) -> str | None:
        def change(d: Definition) -> None:
            sockets = d.inputs if side == "input" else d.outputs
            index = next(i for i, s in enumerate(sockets) if s.name == name)
            target = max(0, min(len(sockets) - 1, index + step))
            sockets.insert(target, sockets.pop(index))
        return self._revise(f"Move {side} '{name}'", change)

    def promote(self, node_id: str, param: str) -> str | None:
        """Show an inner node's parameter on every instance (a promoted widget)."""
        def change(d: Definition) -> None:
            record = d.nodes.get(node_id)
            cls = self.document.graph.registry.get(record.type) if record else None
            inp = cls.input(param) if cls else None
            if inp is None or not inp.is_parameter:
                raise ValueError(f"node {node_id} has no parameter '{param}'")
            if any((w.node, w.param) == (node_id, param) for w in d.widgets):
                raise ValueError(f"node {node_id}'s '{param}' is promoted already")
            taken = set(d.instance_names())
            name, n = param, 1
            while name in taken:
                n += 1
                name = f"{param}_{n}"
            d.widgets.append(Promoted(name, node_id, param))
        return self._revise(f"Promote '{param}'", change)

    def unpromote(self, name: str) -> str | None:
        def change(d: Definition) -> None:
            d.widgets = [w for w in d.widgets if w.name != name]
        return self._revise(f"Unpromote '{name}'", change)

    # -- the library of subgraph files ---------------------------------------------------------

    def save_to_library(self, definition_id: str, folder: Path | None = None) -> Path:
        folder = folder or library_dir()
        folder.mkdir(parents=True, exist_ok=True)
        definition = self.workflow.subgraphs[definition_id]
        path = folder / f"{definition.id}.json"
        save_subgraph(self.workflow, definition_id, path)
        return path

    def use_file(self, path: Path, pos: tuple[float, float] | None = None) -> tuple[str | None, list[str]]:
        """Bring a library file into the workflow ("update all instances" when it is known), and
        with `pos` add an instance there; (the instance's id, lines for what instances lost)."""
        try:
            main, nested = load_subgraph(path, self.workflow.registry)
        except WorkflowFormatError as exc:
            return None, [str(exc)]
        self.document.undo.beginMacro(f"Use subgraph '{main.name}'")
        lost: list[str] = []
        fresh = [d for d in [*nested, main] if d.id not in self.workflow.subgraphs]
        if fresh:
            self.document.undo.push(PutDefinitions(self.workflow, fresh))
        for definition in [*nested, main]:
            old = self.workflow.subgraphs[definition.id]
            if definition not in fresh and old != definition:
                command = ReviseDefinition(self.workflow, definition, f"Update subgraph '{definition.name}'",
                                           after=self._reload_views)
                self.document.undo.push(command)
                lost += command.lost
        node_id = self.document.add_node(instance_type(main.id), pos) if pos is not None else None
        self.document.undo.endMacro()
        return node_id, lost
