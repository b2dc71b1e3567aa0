"""Two pictures on top of each other with a divider you drag: A on its left, B on its right.

Both are drawn into the same rectangle (B stretched to A's size if they differ), so the divider
shows exactly what changed between two seeds or settings.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

HANDLE = 7.0


class CompareView(QWidget):
    split_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.a: QImage | None = None
        self.b: QImage | None = None
        self.split = 0.5  # fraction of the picture's width shown from A
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.SplitHCursor)

    def set_images(self, a: QImage, b: QImage) -> None:
        self.a, self.b = a, b
        self.update()

    def set_split(self, split: float) -> None:
        self.split = min(max(split, 0.0), 1.0)
        self.split_changed.emit(self.split)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(320, 240)

    def picture_rect(self) -> QRectF:
        """Where the pictures are drawn: A's aspect ratio, as large as the widget allows."""
        if self.a is None or self.a.isNull():
            return QRectF()
        size = self.a.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x, y = (self.width() - size.width()) / 2, (self.height() - size.height()) / 2
        return QRectF(x, y, size.width(), size.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 40))
        rect = self.picture_rect()
        if rect.isEmpty() or self.b is None:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        cut = rect.left() + rect.width() * self.split
        painter.save()
        painter.setClipRect(QRectF(rect.left(), rect.top(), cut - rect.left(), rect.height()))
        painter.drawImage(rect, self.a)
        painter.setClipRect(QRectF(cut, rect.top(), rect.right() - cut, rect.height()))
        painter.drawImage(rect, self.b)
        painter.restore()
        painter.setPen(QPen(QColor(255, 255, 255), 2))
        painter.drawLine(QPointF(cut, rect.top()), QPointF(cut, rect.bottom()))
        painter.setBrush(QColor(255, 255, 255))
        painter.drawEllipse(QPointF(cut, rect.center().y()), HANDLE, HANDLE)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(rect.adjusted(6, 4, -6, -4), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, "A")
        painter.drawText(rect.adjusted(6, 4, -6, -4), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, "B")

    def _follow(self, x: float) -> None:
        rect = self.picture_rect()
        if rect.width() > 0:
            self.set_split((x - rect.left()) / rect.width())

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._follow(event.position().x())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._follow(event.position().x())

    def keyPressEvent(self, event) -> None:
        step = {Qt.Key.Key_Left: -0.05, Qt.Key.Key_Right: 0.05}.get(event.key())
        if step is None:
            super().keyPressEvent(event)
            return
        self.set_split(self.split + step)
