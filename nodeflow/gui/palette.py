"""The node palette: categories and instant search; drag a node type onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from nodeflow.core.registry import Registry
from nodeflow.gui import node_search, theme
from nodeflow.gui.canvas.view import node_type_mime

TYPE_ROLE = Qt.ItemDataRole.UserRole


class _Tree(QTreeWidget):
    def mimeData(self, items):
        type_ids = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        return node_type_mime(type_ids[0]) if type_ids else None

    def mimeTypes(self):
        from nodeflow.gui.canvas.view import MIME_NODE_TYPE

        return [MIME_NODE_TYPE]


class Palette(QWidget):
    activated = Signal(str)  # type id (double-click or Enter): add it at the view centre

    def __init__(self, registry: Registry, parent=None):
        super().__init__(parent)
        self.registry = registry
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.tree = _Tree()
        self.tree.setHeaderHidden(True)
        # "Conditioning Combine" and "Conditioning Concat" must not both read "Conditioning Co…"
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.itemActivated.connect(self._activated)
        self.search.textChanged.connect(self.refresh)
        self.search.returnPressed.connect(self._enter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.refresh("")

    def refresh(self, text: str = "") -> None:
        self.tree.clear()
        classes = node_search.search(self.registry, text)
        if not text.strip():
            classes.sort(key=lambda c: (c.category, c.title))
        categories: dict[str, QTreeWidgetItem] = {}
        for cls in classes:
            parent = categories.get(cls.category)
            if parent is None:
                parent = QTreeWidgetItem(self.tree, [cls.category])
                parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
                parent.setForeground(0, theme.category_color(cls.category).lighter(170))
                categories[cls.category] = parent
            item = QTreeWidgetItem(parent, [cls.title])
            item.setData(0, TYPE_ROLE, cls.type_id)
            item.setToolTip(0, f"{cls.description}\n({cls.type_id})".strip())
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self.tree.expandAll()
        first = self.first_item()
        if first is not None and text.strip():
            self.tree.setCurrentItem(first)

    def first_item(self) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.childCount():
                return top.child(0)
        return None

    def item_for(self, type_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, TYPE_ROLE) == type_id:
                    return top.child(j)
        return None

    def _activated(self, item: QTreeWidgetItem) -> None:
        if item.data(0, TYPE_ROLE):
            self.activated.emit(item.data(0, TYPE_ROLE))

    def _enter(self) -> None:
        item = self.tree.currentItem() or self.first_item()
        if item is not None:
            self._activated(item)
