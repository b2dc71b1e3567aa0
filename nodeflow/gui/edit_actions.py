"""Edit operations on the current selection: clipboard, duplicate, delete, group, mute, collapse.

The window owns the one EditActions and hands it to the view (context menus) and its own menus and
shortcuts, so each operation behaves the same from everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QWidget

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.gui.canvas.group_item import GROUP_TITLE_H
from nodeflow.gui.canvas.placement import place
from nodeflow.gui.canvas.scene import NodeScene
from nodeflow.gui.commands import named
from nodeflow.gui.document import Document


class EditActions:
    def __init__(self, scene: NodeScene, document: Document, pointer: Callable[[], QPointF]):
        """`pointer` gives where a paste without a place lands (the mouse, in scene coordinates)."""
        self.scene = scene
        self.document = document
        self._pointer = pointer

    def copy(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        QGuiApplication.clipboard().setText(self.document.copy_text(ids))
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete()

    def paste(self, at: QPointF | None = None, with_inputs: bool = False) -> list[str]:
        """Paste at `at` (else the pointer); `with_inputs` also wires the copied nodes' incoming
        links from nodes still in the graph (Ctrl+Shift+V, as in ComfyUI)."""
        text = QGuiApplication.clipboard().text()
        if not text.strip().startswith("{"):
            return []
        at = at if at is not None else self._pointer()
        self.document.undo.beginMacro("Paste with inputs" if with_inputs else "Paste")
        try:
            ids = self.document.paste_text(text, (at.x(), at.y()), with_inputs)
        except WorkflowFormatError as exc:
            self.scene.show_message(f"Cannot paste: {exc}")
            ids = []
        self._land_clear(ids)
        self.document.undo.endMacro()
        self.scene.select_nodes(ids)
        return ids

    def _land_clear(self, ids: list[str]) -> None:
        """Slide pasted nodes, together, off the nodes already there (as little as needed)."""
        views = self.scene.views()
        items = [self.scene.nodes[i] for i in ids if i in self.scene.nodes]
        if not items or not views:
            return
        block = QRectF()
        for item in items:
            block = block.united(item.sceneBoundingRect())
        chosen = set(ids)
        others = [item.sceneBoundingRect() for node_id, item in self.scene.nodes.items() if node_id not in chosen]
        area = views[0].visible_scene_rect().united(block.adjusted(-20, -20, 20, 20))  # asked-for place stays allowed
        delta = place(block.topLeft(), block.size(), area, others) - block.topLeft()
        if delta.manhattanLength() >= 1:
            moves = {}
            for item in items:
                old = list(item.record.ui.get("pos") or [item.pos().x(), item.pos().y()])
                moves[item.node_id] = (old, [round(old[0] + delta.x()), round(old[1] + delta.y())])
            self.document.move(moves)

    def duplicate(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        new = self.document.paste_text(self.document.copy_text(ids), None)
        self.scene.select_nodes(new)
        return new

    def delete(self) -> None:
        nodes, groups = self.scene.selected_node_ids(), self.scene.selected_group_ids()
        if not nodes and not groups and self.scene.selected_link is not None:
            self.document.disconnect(*self.scene.selected_link)
            return
        self.document.delete(nodes, groups)

    def select_all(self) -> None:
        for item in self.scene.nodes.values():
            item.setSelected(True)

    def toggle_mode(self, mode: str) -> None:
        self.document.toggle_mode(self.scene.selected_node_ids(), mode)

    def toggle_collapse(self) -> None:
        ids = self.scene.selected_node_ids()
        if not ids:
            return
        collapse = not all(self.document.graph.nodes[i].ui.get("collapsed") for i in ids)
        self.document.undo.beginMacro(f"{'Collapse' if collapse else 'Expand'} {named(self.document.graph, ids)}")
        for node_id in ids:
            self.document.set_ui(node_id, "Collapse", collapsed=True if collapse else None)
        self.document.undo.endMacro()

    def group_selection(self, title: str | None = None) -> str | None:
        """Frame the selected nodes. Without a `title` (Ctrl+G, the menus) the frame is made as
        "Group" and its title opens for typing, as in ComfyUI (`canvas.title_editor`)."""
        items = [self.scene.nodes[i] for i in self.scene.selected_node_ids()]
        if not items:
            return None
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        rect = rect.adjusted(-20, -20 - GROUP_TITLE_H, 20, 20)
        group_id = self.document.add_group(title or "Group", [round(rect.x()), round(rect.y()),
                                                              round(rect.width()), round(rect.height())])
        if title is None:
            self.scene.request_rename_group(group_id)
        return group_id

    def set_color(self, color: str | None) -> None:
        ids = self.scene.selected_node_ids()
        if ids:
            self.document.undo.beginMacro(f"Colour {named(self.document.graph, ids)}")
            for node_id in ids:
                self.document.set_ui(node_id, "Colour", color=color)
            self.document.undo.endMacro()
        for group_id in self.scene.selected_group_ids():
            self.document.set_group(group_id, color=color)

    def set_converted(self, node_id: str, name: str, as_input: bool) -> None:
        """Show a parameter as an input socket (to drive it by a link) or back as a widget."""
        record = self.document.graph.node(node_id)
        current = list(record.ui.get("widget_inputs", []))
        if as_input and name not in current:
            current.append(name)
        elif not as_input and name in current:
            current.remove(name)
        else:
            return
        self.document.undo.beginMacro("Convert widget" if as_input else "Convert to widget")
        if not as_input:
            self.document.disconnect(node_id, name)
        self.document.set_ui(node_id, "Convert widget", widget_inputs=current or None)
        self.document.undo.endMacro()

    def nudge(self, dx: float, dy: float) -> None:
        moves = {}
        for node_id in self.scene.selected_node_ids():
            item = self.scene.nodes[node_id]
            old = item.record.ui.get("pos") or [item.pos().x(), item.pos().y()]
            moves[node_id] = (old, [round(item.pos().x() + dx), round(item.pos().y() + dy)])
        self.document.move(moves, merge=True)

    def add_nudge_keys(self, view: QWidget) -> None:
        """Arrow keys move the selection 10 px, only while the canvas has focus (elsewhere they
        move a text cursor or a list's selection)."""
        for key, (dx, dy) in {"Left": (-10, 0), "Right": (10, 0), "Up": (0, -10), "Down": (0, 10)}.items():
            action = QAction(view)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(lambda _=False, x=dx, y=dy: self.nudge(x, y))
            view.addAction(action)
