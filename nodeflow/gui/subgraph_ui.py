"""The editor's subgraph controls: menu actions, the breadcrumb over the canvas, a panel for the
open definition's sockets and promoted widgets, and the library of subgraph files.

Double-clicking an instance below its title opens its definition in place; the breadcrumb
("Workflow › Text to Image") leads back. Every operation is a `SubgraphEdits` call, so it is one
undo step and the scene follows the model.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nodeflow.core.subgraphs.definition import definition_id_of
from nodeflow.core.subgraphs.files import library_files
from nodeflow.gui.canvas.layout import TITLE_H
from nodeflow.gui.canvas.node_item import NodeItem
from nodeflow.gui.dock_sizes import scrolling
from nodeflow.gui.subgraph_edits import SubgraphEdits
from nodeflow.gui.widgets.flow_row import FlowLayout

_ROLE = Qt.ItemDataRole.UserRole
#: A subgraph file dragged from the library onto the canvas (its path, UTF-8).
MIME_SUBGRAPH_FILE = "application/x-nodeflow-subgraph-file"


class LibraryList(QListWidget):
    """The library's files; dragging one carries its path to the canvas."""

    def __init__(self) -> None:
        super().__init__()
        self.setDragEnabled(True)

    def mimeData(self, items) -> QMimeData:  # noqa: N802 - Qt's name
        mime = QMimeData()
        if items:
            mime.setData(MIME_SUBGRAPH_FILE, str(items[0].data(_ROLE)).encode())
        return mime


class Breadcrumb(QWidget):
    """'Workflow › Outer › Inner' buttons at the canvas's top-left while a definition is open."""

    def __init__(self, edits: SubgraphEdits, parent: QWidget):
        super().__init__(parent)
        self.edits = edits
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(6, 6, 6, 6)
        edits.trail_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        while self.row.count():
            widget = self.row.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        names = ["Workflow", *self.edits.names()]
        for depth, name in enumerate(names):
            button = QToolButton(self)
            button.setText(name if depth == len(names) - 1 else f"{name}  ›")
            button.setEnabled(depth < len(names) - 1)
            button.clicked.connect(lambda _c=False, d=depth: self.edits.close(d))
            self.row.addWidget(button)
        self.adjustSize()
        self.setVisible(len(names) > 1)

    def buttons(self) -> list[QToolButton]:
        return [self.row.itemAt(i).widget() for i in range(self.row.count())]


def _holding(layout: FlowLayout) -> QWidget:
    """A widget laid out by `layout` (a wrapping row sizes by its width only inside a widget)."""
    holder = QWidget()
    holder.setLayout(layout)
    return holder


class SubgraphPanel(QWidget):
    """The open definition's inputs, outputs and promoted widgets, and the library's files."""

    def __init__(self, edits: SubgraphEdits, scene, message):
        super().__init__()
        self.edits, self.scene, self.message = edits, scene, message
        layout = QVBoxLayout(self)
        self.sockets = QListWidget()
        self.sockets.setWordWrap(True)  # the hint line fits a narrow column
        layout.addWidget(self.sockets)
        buttons = FlowLayout(max_lines=3)  # wraps in a narrow column (1280x720) instead of clipping
        for text, slot in (("Add input…", lambda: self.add("input")), ("Add output…", lambda: self.add("output")),
                           ("Rename…", self.rename), ("Remove", self.remove), ("Up", lambda: self.move(-1)),
                           ("Down", lambda: self.move(1)), ("Promote…", self.promote)):
            button = QPushButton(text)
            button.clicked.connect(lambda _c=False, s=slot: s())
            buttons.addWidget(button)
        layout.addWidget(_holding(buttons))
        self.library = LibraryList()
        layout.addWidget(self.library)
        library_buttons = FlowLayout()
        for text, slot in (("Add to canvas", self.use_selected), ("Update instances", self.update_selected),
                           ("Save to library", self.save_current), ("Refresh", self.refresh_library)):
            button = QPushButton(text)
            button.clicked.connect(lambda _c=False, s=slot: s())
            library_buttons.addWidget(button)
        layout.addWidget(_holding(library_buttons))
        for box in (self.sockets, self.library):  # the lists share what the wrapped buttons leave
            box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
            box.setMinimumHeight(48)
        edits.trail_changed.connect(self.refresh)
        edits.document.edited.connect(self.refresh)
        self.refresh()
        self.refresh_library()

    def refresh(self) -> None:
        self.sockets.clear()
        definition = self.edits.current
        if definition is None:
            self.sockets.addItem("Double-click a subgraph instance to edit its sockets")
            return
        rows = [("input", s.name, f"in  {s.name}: {s.type}") for s in definition.inputs]
        rows += [("output", s.name, f"out {s.name}: {s.type}") for s in definition.outputs]
        rows += [("widget", w.name, f"widget {w.name} (node {w.node} '{w.param}')") for w in definition.widgets]
        for side, name, text in rows:
            item = QListWidgetItem(text)
            item.setData(_ROLE, (side, name))
            self.sockets.addItem(item)

    def _chosen(self) -> tuple[str, str] | None:
        item = self.sockets.currentItem()
        return item.data(_ROLE) if item is not None else None

    def _say(self, refusal: str | None) -> None:
        if refusal:
            self.message(refusal)

    def add(self, side: str) -> None:
        name, ok = QInputDialog.getText(self, f"Add {side}", "Name:")
        if not ok or not name.strip():
            return
        kind, ok = QInputDialog.getText(self, f"Add {side}", "Type (MODEL, IMAGE, INT, ...):", text="IMAGE")
        if ok and kind.strip():
            self._say(self.edits.add_socket(side, name.strip(), kind.strip().upper()))

    def rename(self) -> None:
        chosen = self._chosen()
        if chosen is None or chosen[0] == "widget":
            return
        text, ok = QInputDialog.getText(self, "Rename socket", "New name:", text=chosen[1])
        if ok:
            self._say(self.edits.rename_socket(chosen[0], chosen[1], text.strip()))

    def remove(self) -> None:
        chosen = self._chosen()
        if chosen is not None:
            self._say(self.edits.unpromote(chosen[1]) if chosen[0] == "widget"
                      else self.edits.remove_socket(*chosen))

    def move(self, step: int) -> None:
        chosen = self._chosen()
        if chosen is not None and chosen[0] != "widget":
            self._say(self.edits.move_socket(chosen[0], chosen[1], step))

    def promote(self) -> None:
        """Promote a parameter of the selected inner node."""
        ids = self.scene.selected_node_ids()
        graph = self.edits.document.graph
        cls = graph.node_class(ids[0]) if len(ids) == 1 else None
        names = [i.name for i in cls.inputs if i.is_parameter] if cls else []
        if not names:
            self.message("select one node inside the subgraph with a parameter to promote")
            return
        name, ok = QInputDialog.getItem(self, "Promote widget", "Parameter:", names, 0, False)
        if ok:
            self._say(self.edits.promote(ids[0], name))

    def refresh_library(self) -> None:
        self.library.clear()
        for path in library_files():
            item = QListWidgetItem(path.stem)
            item.setData(_ROLE, str(path))
            self.library.addItem(item)

    def use_selected(self) -> None:
        item = self.library.currentItem()
        if item is None:
            return
        view = self.scene.views()[0] if self.scene.views() else None
        centre = view.mapToScene(view.viewport().rect().center()) if view else None
        _, lost = self.edits.use_file(Path(item.data(_ROLE)), (centre.x(), centre.y()) if centre else (0.0, 0.0))
        for line in lost:
            self.message(line)

    def update_selected(self) -> None:
        """Bring the selected file's (edited) definition into this workflow: every instance follows."""
        item = self.library.currentItem()
        if item is None:
            return
        _, lost = self.edits.use_file(Path(item.data(_ROLE)))
        for line in lost or ["updated every instance of the subgraph"]:
            self.message(line)

    def save_current(self) -> None:
        definition = self.edits.current
        ids = self.scene.selected_node_ids()
        if definition is None and len(ids) == 1:
            definition_id = definition_id_of(self.edits.document.graph.nodes[ids[0]].type)
        else:
            definition_id = definition.id if definition else None
        if definition_id is None:
            self.message("open a subgraph or select an instance to save it to the library")
            return
        self.message(f"saved {self.edits.save_to_library(definition_id)}")
        self.refresh_library()


class _CanvasHooks(QObject):
    """Double-click below an instance's title opens its definition (the title stays rename); a
    library file dropped on the canvas becomes an instance there."""

    def __init__(self, view, edits: SubgraphEdits, message):
        super().__init__(view)
        self.view, self.edits, self.message = view, edits, message

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            if not event.mimeData().hasFormat(MIME_SUBGRAPH_FILE):
                return False
            event.acceptProposedAction()
            if kind == QEvent.Type.Drop:
                path = Path(bytes(event.mimeData().data(MIME_SUBGRAPH_FILE)).decode())
                pos = self.view.mapToScene(event.position().toPoint())
                for line in self.edits.use_file(path, (pos.x(), pos.y()))[1]:
                    self.message(line)
            return True
        if kind != QEvent.Type.MouseButtonDblClick:
            return False
        item = self.view.itemAt(event.position().toPoint())
        while item is not None and not isinstance(item, NodeItem):
            item = item.parentItem()
        if item is None or definition_id_of(self.edits.document.graph.nodes[item.node_id].type) is None:
            return False
        if item.mapFromScene(self.view.mapToScene(event.position().toPoint())).y() <= TITLE_H:
            return False
        return self.edits.open(item.node_id) is None


def install(window) -> SubgraphEdits:
    """Add the subgraph actions, menu, breadcrumb and panel to a main window."""
    edits = SubgraphEdits(window.document)
    window.subgraph_breadcrumb = Breadcrumb(edits, window.view)
    window.subgraph_panel = SubgraphPanel(edits, window.scene, window.status)
    # tabbed with the Inspector: a third panel in the right column pushed a 1280x720 window to 874 px
    window.docks["subgraph"] = window._dock("Subgraph", scrolling(window.subgraph_panel),
                                            Qt.DockWidgetArea.RightDockWidgetArea)
    window.tabifyDockWidget(window.docks["inspector"], window.docks["subgraph"])
    window.docks["inspector"].raise_()
    window.subgraph_canvas_hooks = _CanvasHooks(window.view, edits, window.status)
    window.view.viewport().installEventFilter(window.subgraph_canvas_hooks)

    def convert() -> None:
        ids = window.scene.selected_node_ids()
        if not ids:
            window.status("select the nodes to put into a subgraph")
            return
        name, ok = QInputDialog.getText(window, "Convert to subgraph", "Name:", text="Subgraph")
        if ok and edits.convert(ids, name) is None:
            window.status("a subgraph needs a name")

    def on_selected(action) -> None:
        ids = window.scene.selected_node_ids()
        refusal = action(ids[0]) if len(ids) == 1 else "select one subgraph instance"
        if refusal:
            window.status(refusal)

    menu = QMenu("S&ubgraph", window)
    for name, text, slot in (("convert_subgraph", "&Convert Selection to Subgraph…", convert),
                             ("open_subgraph", "&Open Subgraph", lambda: on_selected(edits.open)),
                             ("close_subgraph", "&Back to Parent", lambda: edits.close()),
                             ("detach_subgraph", "&Detach Instance", lambda: on_selected(edits.detach))):
        menu.addAction(window._action(name, text, slot))
    window.menuBar().addMenu(menu)
    return edits
