"""One open workflow: its graph, file path, undo stack and the edit operations the UI offers.

Views, menus and the inspector call these methods; each pushes an undo command (which changes the
graph, which the scene follows). Refused edits return the graph's message instead of raising.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from nodeflow.core import files, workflow
from nodeflow.core.errors import GraphEditError
from nodeflow.core.graph import Graph, Group, Link, NodeMode, NodeRecord, check_group, default_title
from nodeflow.core.registry import Registry
from nodeflow.core.salvage import salvage
from nodeflow.core.seeds import seed_inputs, seed_value
from nodeflow.gui import clipboard, wire_rules
from nodeflow.gui import commands as cmd
from nodeflow.gui.widgets.seed_control import SeedControls, next_seed
from nodeflow.gui.wire_rules import SocketRef
from nodeflow.interop.loading import open_workflow


class Document(QObject):
    graph_replaced = Signal()  # a new Graph object (new / open): rebuild the scene
    dirty_changed = Signal(bool)
    path_changed = Signal()
    edited = Signal()  # after any graph change (autosave, run state resets)

    def __init__(self, registry: Registry):
        super().__init__()
        self.registry = registry
        self.graph = Graph(registry)
        #: The workflow the file holds (saved, run). `graph` is what the canvas shows and edits: the
        #: workflow, or a subgraph definition opened in place (`gui.subgraph_edits`).
        self.workflow = self.graph
        self.path: Path | None = None
        #: The file an untitled document came from (a ComfyUI file, a PNG): it names the window and
        #: the Save As suggestion, and is never written.
        self.source: Path | None = None
        self.import_report = None  # what the ComfyUI importer did, for the file just opened
        self.undo = QUndoStack(self)
        self.undo.cleanChanged.connect(self._on_clean_changed)
        self._hook(self.graph)

    # -- state ---------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return not self.undo.isClean()

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    def _hook(self, graph: Graph) -> None:
        graph.changed.connect(self.edited.emit)

    def replace_graph(self, graph: Graph, path: Path | None, dirty: bool = False) -> None:
        self.graph.changed.disconnect(self.edited.emit)
        self.graph = self.workflow = graph
        self._hook(graph)
        self.undo.clear()
        if dirty:
            self.undo.resetClean()  # no clean state in the stack: dirty until saved
        self.path = Path(path) if path else None
        self.source = None
        self.import_report = None
        self.graph_replaced.emit()
        self.path_changed.emit()
        self.dirty_changed.emit(self.dirty)

    def show_graph(self, graph: Graph) -> None:
        """Show and edit another graph of the same workflow (a subgraph definition opened in place,
        or the workflow again): the undo history, file and dirty state stay."""
        self.graph.changed.disconnect(self.edited.emit)
        self.graph = graph
        self._hook(graph)
        self.graph_replaced.emit()

    # -- files ---------------------------------------------------------------------------------

    def new(self) -> None:
        self.replace_graph(Graph(self.registry), None)

    def open(self, path: Path) -> list[str]:
        """Load a workflow file: NodeFlow JSON or PNG, or a ComfyUI JSON, PNG or WebP (detected by
        content, `interop.loading`). Only a NodeFlow JSON file becomes the document's path; a PNG or
        an imported ComfyUI file opens untitled (an import also unsaved), so Save never overwrites
        it. Returns the loader's notes (migrations, drift, the ComfyUI import report)."""
        opened = open_workflow(Path(path), self.registry)
        own_json = opened.comfyui is None and Path(path).suffix.lower() == ".json"
        self.replace_graph(opened.graph, path if own_json else None, dirty=opened.comfyui is not None)
        self.source = None if own_json else Path(path)  # set after replace_graph, which forgets it
        self.import_report = opened.comfyui
        self.path_changed.emit()
        return opened.messages

    def open_text(self, text: str, path: Path | None = None, dirty: bool = True) -> list[str]:
        graph, report = workflow.loads(text, self.registry)
        self.replace_graph(graph, path, dirty=dirty)
        return report.messages

    def restore_text(self, text: str, path: Path | None) -> list[str]:
        """Open a crash autosave (unsaved): all of it, or every part that loads when it is damaged.
        Returns the parts left out, one line each (empty when it restored in full)."""
        graph, _report, dropped = salvage(text, self.registry)
        self.replace_graph(graph, path, dirty=True)
        return dropped

    def save(self, path: Path | None = None) -> Path:
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no file name")
        files.save(self.workflow, target)
        self.undo.setClean()
        if target != self.path:
            self.path = target
            self.path_changed.emit()
        return target

    def text(self) -> str:
        return workflow.dumps(self.workflow)

    # -- edits ---------------------------------------------------------------------------------

    def add_node(self, type_id: str, pos: tuple[float, float], params: dict | None = None) -> str:
        command = cmd.AddNode(self.graph, type_id, params, {"pos": [round(pos[0]), round(pos[1])]})
        self.undo.push(command)
        return command.node_id

    def add_placed(self, type_id: str, pos: tuple[float, float], land: Callable[[str], None] | None = None,
                   wire: tuple[SocketRef, str] | None = None) -> str:
        """Add a node as one undo step: `land` (the canvas's placement rule) may slide it into free
        space, and a wire dragged from `wire` = (socket, type it carries) is connected to the new
        node's first socket that fits it (`wire_rules.fitting_socket`)."""
        cls = self.registry.get(type_id)
        self.undo.beginMacro(f"Add {cls.title if cls else type_id}")
        node_id = self.add_node(type_id, pos)
        if land is not None:
            land(node_id)
        if wire is not None and cls is not None:
            start, type_name = wire
            name = wire_rules.fitting_socket(cls, type_name or "*", want_input=start.is_output)
            if name is not None and start.is_output:
                self.connect(start.node_id, start.name, node_id, name)
            elif name is not None:
                self.connect(node_id, name, start.node_id, start.name)
        self.undo.endMacro()
        return node_id

    def insert_into_link(self, link: Link, type_id: str, pos: tuple[float, float]) -> str | None:
        """Add a `type_id` node at `pos` and route the wire through it (src -> node -> dst), one
        undo step; None (nothing added) when the node has no input or output that fits the wire."""
        cls = self.registry.get(type_id)
        out_type = self.graph.output_type(link.src, link.src_output)
        dst_cls = self.graph.node_class(link.dst)
        dst_input = dst_cls.input(link.dst_input) if dst_cls is not None else None
        if cls is None or out_type is None or dst_input is None:
            return None
        inp = wire_rules.fitting_socket(cls, out_type, want_input=True)
        out = wire_rules.fitting_socket(cls, dst_input.type, want_input=False)
        if inp is None or out is None:
            return None
        self.undo.beginMacro(f"Insert {cls.title} into wire")
        node_id = self.add_node(type_id, pos)
        self.connect(link.src, link.src_output, node_id, inp)
        self.connect(node_id, out, link.dst, link.dst_input)
        self.undo.endMacro()
        return node_id

    def move_link(self, old: Link, src: str, src_output: str, dst: str, dst_input: str) -> str | None:
        """A wire's end dragged from one input to another: unplug `old`, wire the new one, one undo
        step; returns the refusal message (and changes nothing) if the new wire is refused."""
        try:
            self.graph.check_connection(src, src_output, dst, dst_input)
        except GraphEditError as exc:
            return str(exc)
        self.undo.beginMacro("Move link")
        self.disconnect(old.dst, old.dst_input)
        self.connect(src, src_output, dst, dst_input)
        self.undo.endMacro()
        return None

    def cut_links(self, links: list[Link]) -> None:
        """Remove several wires (the cut gesture) as one undo step."""
        if links:
            self.undo.beginMacro("Cut links")
            for link in links:
                self.disconnect(link.dst, link.dst_input)
            self.undo.endMacro()

    def connect(self, src: str, src_output: str, dst: str, dst_input: str) -> str | None:
        """Wire two sockets; returns None on success or the reason it was refused."""
        try:
            self.graph.check_connection(src, src_output, dst, dst_input)
        except GraphEditError as exc:
            return str(exc)
        old = self.graph.link_into(dst, dst_input)
        if old is not None and (old.src, old.src_output) == (src, src_output):
            return None
        self.undo.push(cmd.Connect(self.graph, src, src_output, dst, dst_input))
        return None

    def insert_reroute(self, link: Link, pos: tuple[float, float]) -> str | None:
        """Put a reroute on a wire at `pos` (its top-left): src -> reroute -> dst, one undo step.

        Returns the reroute's id, or None if no reroute node type is installed (see
        `Registry.reroute_type`) or the wire is gone.
        """
        cls = self.registry.reroute_type()
        if cls is None or self.graph.link_into(link.dst, link.dst_input) != link:
            return None
        self.undo.beginMacro("Add reroute")
        node_id = self.add_node(cls.type_id, pos)
        self.connect(link.src, link.src_output, node_id, cls.inputs[0].name)
        self.connect(node_id, cls.outputs[0].name, link.dst, link.dst_input)
        self.undo.endMacro()
        return node_id

    def splice(self, node_id: str, move: tuple[Any, Any], link: Link, sockets: tuple[str, str]) -> None:
        """A node dropped onto a wire: move it there and put it into the wire (src -> node's input,
        node's output -> dst) as one undo step; `sockets` are the (input, output) that take it."""
        inp, out = sockets
        self.undo.beginMacro("Insert node into link")
        self.move({node_id: move})
        self.connect(link.src, link.src_output, node_id, inp)
        self.connect(node_id, out, link.dst, link.dst_input)
        self.undo.endMacro()

    def disconnect(self, dst: str, dst_input: str) -> None:
        if self.graph.link_into(dst, dst_input) is not None:
            self.undo.push(cmd.Disconnect(self.graph, dst, dst_input))

    def set_param(self, node_id: str, name: str, value: Any, merge: object = None) -> str | None:
        """Change a parameter (checked by the graph); returns the refusal message, if any.

        Edits passing the same `merge` token (one drag, one typing session) undo as one step.
        """
        try:
            value = self.graph.check_value(node_id, name, value)
        except GraphEditError as exc:
            return str(exc)
        if self.graph.node(node_id).params.get(name, object()) == value:
            return None
        self.undo.push(cmd.SetParam(self.graph, node_id, name, value, merge))
        return None

    def set_ui(self, node_id: str, text: str, **values: Any) -> str | None:
        """Change layout fields as one undo step; returns the refusal message, if any (checked
        before the command is pushed: a command that raised inside the undo stack would stay on it)."""
        try:
            self.graph.check_ui(node_id, **values)
        except GraphEditError as exc:
            return str(exc)
        self.undo.push(cmd.SetUi(self.graph, node_id, text, **values))
        return None

    def rename(self, node_id: str, text: str) -> None:
        """Give a node its own title; an empty one, or the type's own, goes back to the default."""
        text = text.strip()
        if text == self.graph.title(node_id):
            return
        default = default_title(self.graph.node(node_id), self.graph.node_class(node_id))
        self.set_ui(node_id, "Rename", title=text if text and text != default else None)

    def set_seed_mode(self, node_id: str, name: str, mode: str) -> None:
        """Choose what happens to a seed after each run (saved in the node's `seed_control`)."""
        controls = SeedControls.from_ui(self.graph.node(node_id).ui)
        if controls.mode(name) == mode:
            return
        self.set_ui(node_id, f"Seed {mode}", seed_control=controls.with_mode(name, mode).to_ui())

    def advance_seeds(self) -> None:
        """After queueing a run: move every unlinked seed whose mode is not "fixed", as one step."""
        changes = []
        seeds = set(seed_inputs(self.graph))  # placeholders, stale names, linked seeds: left alone
        for node_id, record in self.graph.nodes.items():
            for name, mode in SeedControls.from_ui(record.ui).moving():
                if (node_id, name) in seeds:
                    changes.append((node_id, name, next_seed(mode, seed_value(self.graph, node_id, name))))
        if not changes:
            return
        self.undo.beginMacro("Advance seeds")
        for node_id, name, value in changes:
            self.set_param(node_id, name, value)
        self.undo.endMacro()

    def set_mode(self, node_ids: list[str], mode: str) -> None:
        ids = [i for i in node_ids if i in self.graph.nodes]
        if ids:
            self.undo.push(cmd.SetMode(self.graph, ids, mode))

    def toggle_mode(self, node_ids: list[str], mode: str) -> None:
        ids = [i for i in node_ids if i in self.graph.nodes]
        if ids:
            all_set = all(self.graph.nodes[i].mode == mode for i in ids)
            self.set_mode(ids, NodeMode.NORMAL if all_set else mode)

    def move(self, moves: dict[str, tuple[Any, Any]], group_moves: dict | None = None,
             merge: bool = False) -> None:
        moves = {k: v for k, v in moves.items() if v[0] != v[1]}
        group_moves = {k: v for k, v in (group_moves or {}).items() if v[0] != v[1]}
        if moves or group_moves:
            self.undo.push(cmd.MoveNodes(self.graph, moves, group_moves, merge))

    def delete(self, node_ids: list[str], group_ids: list[str] = ()) -> None:
        node_ids = [i for i in node_ids if i in self.graph.nodes]
        group_ids = [g for g in group_ids if g in self.graph.groups]
        if not node_ids and not group_ids:
            return
        self.undo.beginMacro(f"Delete {cmd.named(self.graph, node_ids)}" if node_ids else "Delete group")
        if node_ids:
            self.undo.push(cmd.RemoveNodes(self.graph, node_ids))
        for group_id in group_ids:
            self.undo.push(cmd.RemoveGroup(self.graph, group_id))
        self.undo.endMacro()

    def insert(self, records: list[NodeRecord], links: list[Link], text: str = "Paste") -> list[str]:
        if records:
            self.undo.push(cmd.InsertNodes(self.graph, records, links, text))
        return [r.id for r in records]

    def copy_text(self, node_ids: list[str]) -> str:
        """The selected nodes (and links among them) as workflow JSON, for the clipboard."""
        return clipboard.copy_text(self.graph, node_ids)

    def paste_text(self, text: str, at: tuple[float, float] | None, with_inputs: bool = False) -> list[str]:
        """Insert nodes from workflow JSON with fresh ids, as one undo step (see gui/clipboard.py).
        `with_inputs`: also wire the links that came into the copied nodes from nodes still here."""
        records, links, pasted = clipboard.paste_records(self.graph, text, at)
        if not records:
            return []
        incoming = clipboard.incoming_links(text, pasted) if with_inputs else []
        self.undo.beginMacro("Paste with inputs" if incoming else "Paste")
        ids = self.insert(records, links)
        for src, out, dst, inp in incoming:
            if src in self.graph.nodes:
                self.connect(src, out, dst, inp)  # checked: a refused wire is left out
        self.undo.endMacro()
        return ids

    def add_group(self, title: str, rect: list[float]) -> str:
        """Add a frame as one undo step; GraphEditError (nothing pushed) for a wrong-typed value."""
        check_group(Group(self.graph.new_id(), title, list(rect)))
        command = cmd.AddGroup(self.graph, title, rect)
        self.undo.push(command)
        assert command.group is not None
        return command.group.id

    def set_group(self, group_id: str, **values: Any) -> str | None:
        """Change a frame's title, rect or colour; returns the refusal message, if any."""
        try:
            check_group(replace(self.graph.groups[group_id], **values))
        except GraphEditError as exc:
            return str(exc)
        self.undo.push(cmd.SetGroup(self.graph, group_id, **values))
        return None

