"""The node search popup (Tab, double-click, or a wire released on empty canvas)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from nodeflow.core.registry import Registry
from nodeflow.core.spec import Node
from nodeflow.gui import node_search


class SearchPopup(QFrame):
    chosen = Signal(str)  # type id

    def __init__(self, registry: Registry, candidates: list[type[Node]] | None = None, parent=None,
                 likely: Mapping[str, float] | None = None):
        """`candidates`: the types a dragged wire fits (None: all); `likely`: type id -> weight,
        the likeliest first among equal text matches (gui/wire_habits.py)."""
        super().__init__(parent, Qt.WindowType.Popup)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.registry = registry
        self.candidates = candidates
        self.likely = likely
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Search nodes…")
        self.list = QListWidget(self)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.resize(420, 380)
        self.edit.textChanged.connect(self.refresh)
        self.edit.returnPressed.connect(self.accept_current)
        self.list.itemActivated.connect(lambda item: self._choose(item.data(Qt.ItemDataRole.UserRole)))
        self.edit.installEventFilter(self)
        self.refresh("")

    def refresh(self, text: str) -> None:
        self.list.clear()
        for cls in node_search.search(self.registry, text, self.candidates, self.likely):
            also = next((a for a in node_search.aliases(cls) if a != cls.title), "")
            item = QListWidgetItem(f"{cls.title}    ·  {cls.category}" + (f"  ·  {also}" if also else ""))
            item.setData(Qt.ItemDataRole.UserRole, cls.type_id)
            item.setToolTip(cls.description or cls.type_id)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def type_ids(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def accept_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._choose(item.data(Qt.ItemDataRole.UserRole))

    def _choose(self, type_id: str) -> None:
        self.chosen.emit(type_id)
        self.close()

    def eventFilter(self, obj, event) -> bool:
        if event.type() == event.Type.KeyPress and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            row = self.list.currentRow() + (1 if event.key() == Qt.Key.Key_Down else -1)
            self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
            return True
        return super().eventFilter(obj, event)

    def popup_at(self, global_pos: QPoint) -> None:
        """Show at `global_pos`, moved in as far as needed to lie wholly on that screen."""
        screen = QGuiApplication.screenAt(global_pos) or QGuiApplication.primaryScreen()
        self.move(global_pos)
        self.show()
        if screen is not None:
            area, frame = screen.availableGeometry(), self.frameGeometry()
            if not area.contains(frame):
                self.resize(min(self.width(), area.width()), min(self.height(), area.height()))
                frame = self.frameGeometry()
                self.move(max(area.left(), min(frame.left(), area.right() + 1 - frame.width())),
                          max(area.top(), min(frame.top(), area.bottom() + 1 - frame.height())))
        self.edit.setFocus()
