"""A row of buttons that wraps onto more lines when the panel is narrow.

A QToolBar outside a QMainWindow hides what does not fit behind a "»" that a narrow dock at
1280x720 left greyed out: the output panel's Copy, Compare and To Load Image were unreachable.
Here every button stays visible; the row grows taller instead of hiding any.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLayout, QToolButton, QWidget, QWidgetItem


class FlowLayout(QLayout):
    """Children left to right, wrapping to a new line at the right edge (height follows width)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4, max_lines: int = 2):
        super().__init__(parent)
        self._items: list[QWidgetItem] = []
        self.max_lines = max_lines
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        width = sum(item.sizeHint().width() + self.spacing() for item in self._items)
        return QSize(width, self.heightForWidth(width))

    def minimumSize(self) -> QSize:
        """Narrow enough for `max_lines` lines: a narrower panel would make the row taller than
        its place in a 1280x720 window (the parent layouts ask this, not heightForWidth)."""
        widest = max((item.sizeHint().width() for item in self._items), default=0)
        width = max(widest, self.sizeHint().width() // self.max_lines)
        while self._lines(width) > self.max_lines:
            width += 8
        return QSize(width, self.heightForWidth(width))

    def _lines(self, width: int) -> int:
        line_height = max((item.sizeHint().height() for item in self._items), default=0)
        if not line_height:
            return 0
        return round((self.heightForWidth(width) + self.spacing()) / (line_height + self.spacing()))

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def _place(self, rect: QRect, move: bool) -> int:
        """Lay the items out in `rect` (or only measure); returns the height used."""
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line:
                x, y, line = rect.x(), y + line + self.spacing(), 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self.spacing()
            line = max(line, hint.height())
        return y + line - rect.y()


class ActionRow(QWidget):
    """One text button per action, wrapping (see FlowLayout)."""

    def __init__(self, actions: list[QAction], parent: QWidget | None = None):
        super().__init__(parent)
        layout = FlowLayout(self)
        self.buttons: list[QToolButton] = []
        for action in actions:
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setAutoRaise(True)
            layout.addWidget(button)
            self.buttons.append(button)
