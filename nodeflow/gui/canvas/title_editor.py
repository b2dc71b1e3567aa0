"""Naming a group frame in place, on its title bar, as ComfyUI does.

Ctrl+G makes a frame titled "Group" and opens this editor on it with the text selected, so typing
names it; double-clicking a title opens it again. Enter or clicking elsewhere keeps what was typed,
Escape keeps the title as it was. The new title goes through the document (one undo step, folded
into the frame's "Add group" step when the frame was just made: `commands.AddGroup.mergeWith`).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsView, QLineEdit

from nodeflow.gui.canvas.group_item import GROUP_TITLE_H
from nodeflow.gui.canvas.host import DocumentEdits


class GroupTitleEditor(QLineEdit):
    def __init__(self, view: QGraphicsView, edits: DocumentEdits):
        super().__init__(view.viewport())
        self.view = view
        self.edits = edits
        self.group_id: str | None = None
        self.setObjectName("groupTitleEditor")
        self.setPlaceholderText("Group title")
        self.hide()
        self.editingFinished.connect(self.commit)

    def edit(self, group_id: str) -> None:
        """Open on `group_id`'s title bar, its title selected."""
        group = self.view.scene().graph.groups.get(group_id)
        if group is None:
            return
        self.group_id = group_id
        x, y, w, _h = group.rect
        bar = self.view.mapFromScene(QRectF(x, y, w, GROUP_TITLE_H)).boundingRect()
        height = max(self.sizeHint().height(), bar.height())
        self.setGeometry(bar.x(), bar.y() + (bar.height() - height) // 2, max(160, bar.width()), height)
        self.setText(group.title)
        self.selectAll()
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def commit(self) -> None:
        """Keep what was typed (an empty title keeps the old one), then close."""
        group_id, self.group_id = self.group_id, None
        if group_id is None:
            return
        self._close()
        group = self.view.scene().graph.groups.get(group_id)
        title = self.text().strip()
        if group is not None and title and title != group.title:
            self.edits.set_group(group_id, title=title)

    def cancel(self) -> None:
        self.group_id = None
        self._close()

    def _close(self) -> None:
        self.hide()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
            return
        super().keyPressEvent(event)
