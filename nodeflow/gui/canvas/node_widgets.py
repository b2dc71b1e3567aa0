"""Mouse handling of a node's painted parameter widgets, and the short-lived inline editors.

Numbers change by dragging sideways (one undo step per drag) or with the arrows; bounded floats are
sliders; a click without a drag types a value; combos open a menu; booleans toggle; text opens an
editor whose typing is one undo step; file fields open a file dialog; the seed's second row picks
what happens to the seed after each run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QFileDialog, QGraphicsProxyWidget, QLineEdit, QMenu, QPlainTextEdit

from nodeflow.gui.canvas.host import DocumentEdits, PaintedNode
from nodeflow.gui.canvas.layout import PAD, WidgetRow
from nodeflow.gui.widgets import values
from nodeflow.gui.widgets.seed_control import SEED_MODES
from nodeflow.library import allow_read

ARROW_W = 16.0
CLICK_SLOP = 3.0


class WidgetInteraction:
    def __init__(self, item: PaintedNode):
        self.item = item
        self.row: WidgetRow | None = None
        self.kind = ""
        self.press_x = 0.0
        self.start_value: Any = None
        self.moved = False
        self.token: object | None = None
        self.editor: QGraphicsProxyWidget | None = None

    @property
    def active(self) -> bool:
        return self.row is not None

    @property
    def document(self) -> DocumentEdits:
        return self.item.host.edits

    def _set(self, value: Any, merge: object = None) -> None:
        assert self.row is not None or merge is None
        name = self._name
        self.document.set_param(self.item.node_id, name, value, merge)

    @property
    def _name(self) -> str:
        assert self.row is not None
        return self.row.name

    def press(self, event) -> bool:
        """Start handling a press on a widget row; False if the press is not on one."""
        if self.item.cls is None:
            return False
        row = self.item.layout.widget_at(event.pos().x(), event.pos().y())
        if row is None or row.input is None:
            return False
        inp = row.input
        self.row, self.moved, self.token = row, False, object()
        self.press_x = event.pos().x()
        self.start_value = self.item.record.params.get(self._name, inp.default)
        rect = QRectF(PAD, row.y, self.item.layout.width - 2 * PAD, row.height)
        x = event.pos().x()
        if row.seed_control:
            self._menu(event, list(SEED_MODES), self._set_seed_mode)
        elif inp.type == "BOOLEAN":
            self._set(not bool(self.start_value))
        elif inp.choices is not None:
            self._menu(event, list(inp.choices), self._set)
        elif inp.widget == "mask":
            self._paint_mask()
        elif inp.model:
            self.open_model_editor()
        elif inp.file:
            self._pick_file(inp.file)
        elif inp.type == "STRING":
            self.open_editor(multiline=inp.multiline)
        elif inp.type in ("INT", "FLOAT"):
            if values.is_slider(inp):
                self.kind = "slider"
                self._set(values.from_fraction(inp, (x - rect.left()) / rect.width()), self.token)
                return True
            if x <= rect.left() + ARROW_W or x >= rect.right() - ARROW_W:
                self._set(values.stepped(inp, self.start_value, -1 if x <= rect.left() + ARROW_W else 1))
            else:
                self.kind = "drag"
                return True
        self.row = None
        return True

    def move(self, event) -> None:
        assert self.row is not None and self.row.input is not None
        inp, x = self.row.input, event.pos().x()
        if abs(x - self.press_x) >= CLICK_SLOP:
            self.moved = True
        if self.kind == "slider":
            width = self.item.layout.width - 2 * PAD
            self._set(values.from_fraction(inp, (x - PAD) / width), self.token)
        elif self.kind == "drag" and self.moved:
            self._set(values.dragged(inp, self.start_value, x - self.press_x), self.token)

    def release(self, event) -> None:
        if self.kind == "drag" and not self.moved:
            self.open_editor(multiline=False)
        self.row, self.kind = None, ""

    # -- helpers -------------------------------------------------------------------------------

    def _menu(self, event, choices: list[str], apply) -> None:
        menu = QMenu()
        for choice in choices:
            action = menu.addAction(choice)
            action.setData(choice)
        picked = menu.exec(event.screenPos())
        if picked is not None:
            apply(picked.data())

    def _set_seed_mode(self, mode: str) -> None:
        self.document.set_seed_mode(self.item.node_id, self._name, mode)

    def _pick_file(self, kind: str) -> None:
        current = str(self.start_value or "")
        if kind == "file-or-folder":
            menu = QMenu()
            menu.addAction("Choose a file…").setData("file")
            menu.addAction("Choose a folder…").setData("folder")
            picked = menu.exec(QCursor.pos())
            if picked is None:
                return
            kind = picked.data()
        if kind == "folder":
            path = QFileDialog.getExistingDirectory(None, f"Choose {self._name}", current)
        else:
            path, _ = QFileDialog.getOpenFileName(None, f"Choose {self._name}", current)
        if path:
            allow_read(Path(path))  # the user's own pick may be read wherever it is (core.reads)
            self._set(path)

    def _paint_mask(self) -> None:
        """Open the mask editor over the node's picture; OK stores the mask (one undo step)."""
        from nodeflow.gui.mask_editor.dialog import edit_mask
        from nodeflow.gui.mask_editor.source import node_picture

        doc, node_id = self.document, self.item.node_id
        image = node_picture(doc.graph, node_id, doc.path.parent if doc.path else None)
        if image is None:
            self.item.node_scene.show_message(f"node {node_id}: choose a readable picture first, then paint its mask")
            return
        stored = edit_mask(image, str(self.start_value or ""), f"Mask for {self.item.title} (node {node_id})")
        if stored is not None and stored != (self.start_value or ""):
            self._set(stored)

    def open_model_editor(self) -> None:
        """A searchable list of the library's models (type any part of a name) over the row."""
        from nodeflow.gui.widgets.special_editors import ModelEditor

        assert self.row is not None
        self.close_editor()
        name, node_id, row = self._name, self.item.node_id, self.row

        def chosen(value) -> None:
            error = self.document.set_param(node_id, name, value)
            if error:
                self.item.node_scene.show_message(f"node {node_id} {name}: {error}")
            self.close_editor()

        widget = ModelEditor(row.input, self.item.record.params.get(name, ""), chosen)
        self._show_editor(widget, row, focus=widget.combo.lineEdit())
        widget.combo.showPopup()

    def open_editor(self, multiline: bool) -> None:
        """Show a real text field over the row; its edits go to the graph as one undo step."""
        assert self.row is not None
        self.close_editor()
        name, node_id, token = self._name, self.item.node_id, object()
        row, inp = self.row, self.row.input
        value = self.item.host.graph.param_value(self.item.node_id, name)
        text = values.display(inp, value) if inp.type != "STRING" else str(value or "")
        if multiline:
            widget = QPlainTextEdit()
            widget.setPlainText(text)
            widget.textChanged.connect(
                lambda: self.document.set_param(node_id, name, widget.toPlainText(), token))
        else:
            widget = QLineEdit(text)
            widget.selectAll()

            def commit() -> None:
                error = self.document.set_param(node_id, name, widget.text())
                if error:
                    self.item.host.show_message(error)
                self.close_editor()

            widget.returnPressed.connect(commit)
        self._show_editor(widget, row)

    def _show_editor(self, widget, row: WidgetRow, focus=None) -> None:
        """Put `widget` over the row; it closes when `focus` (default: the widget) loses focus."""
        widget.setStyleSheet("background: #15161a; color: #e6e6e6; border: 1px solid #3d6fb0;")
        proxy = QGraphicsProxyWidget(self.item)
        proxy.setWidget(widget)
        proxy.setGeometry(QRectF(PAD, row.y, self.item.layout.width - 2 * PAD, row.height))
        proxy.setZValue(10)
        self.editor = proxy
        self._closer = _CloseOnFocusOut(self)
        self._focus = focus or widget
        self._focus.installEventFilter(self._closer)
        self._focus.setFocus()
        proxy.setFocus()

    def close_editor(self) -> None:
        if self.editor is not None:
            editor, self.editor = self.editor, None
            self._focus.removeEventFilter(self._closer)
            editor.hide()
            editor.deleteLater()  # not removed now: we may be inside one of its own events


class _CloseOnFocusOut(QObject):
    """Commit-and-close a single-line editor on focus loss; Esc closes without committing."""

    def __init__(self, owner: WidgetInteraction):
        super().__init__()
        self.owner = owner

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            self.owner.close_editor()
            return True
        if event.type() == QEvent.Type.FocusOut and event.reason() != Qt.FocusReason.PopupFocusReason:
            if isinstance(obj, QLineEdit) and self.owner.editor is not None:
                obj.returnPressed.emit()  # commits (and closes, for a plain field)
            self.owner.close_editor()
        return False
