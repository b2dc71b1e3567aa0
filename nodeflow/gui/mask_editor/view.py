"""The mask editor's canvas: the picture, the mask over it in translucent red, and the brush.

Left drag paints with the current tool, a left click with the fill tool fills; zoom and pan come
from `ZoomView`. Every stroke, fill, clear or invert is one step on the editor's own undo stack
(snapshots of the mask before and after, so undo is exact).
"""

from __future__ import annotations

from enum import Enum

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPen, QPixmap, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPixmapItem

from nodeflow.gui.mask_editor import ops
from nodeflow.gui.widgets.zoom_view import ZoomView

OVERLAY_RGB = (255, 48, 48)
UNDO_LIMIT = 60


class Tool(Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    FILL = "fill"


class MaskChange(QUndoCommand):
    """One edit of the mask, kept as the whole mask before and after."""

    def __init__(self, view: MaskView, before: np.ndarray, text: str):
        super().__init__(text)
        self.view = view
        self.before = before
        self.after = view.mask.copy()
        self._first = True

    def redo(self) -> None:
        if self._first:  # the edit is already on screen when it is pushed
            self._first = False
            return
        self.view.replace_mask(self.after)

    def undo(self) -> None:
        self.view.replace_mask(self.before)


class MaskView(ZoomView):
    mask_changed = Signal()

    def __init__(self, image: QImage, mask: np.ndarray | None = None, parent=None):
        super().__init__(parent)
        self.image = image.convertToFormat(QImage.Format.Format_RGB32)
        h, w = self.image.height(), self.image.width()
        self.mask = np.zeros((h, w), np.uint8) if mask is None else np.ascontiguousarray(mask, np.uint8)
        if self.mask.shape != (h, w):
            raise ValueError(f"a {self.mask.shape[1]}x{self.mask.shape[0]} mask for a {w}x{h} picture")
        self.tool = Tool.BRUSH
        self.radius = max(2.0, min(w, h) / 16)
        self.hardness = 0.8
        self.opacity = 0.55
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.overlay = QGraphicsPixmapItem()
        self.overlay.setZValue(1)
        self.scene().addItem(self.overlay)
        self.cursor_ring = QGraphicsEllipseItem()
        pen = QPen(QColor(255, 255, 255, 220), 1.0)
        pen.setCosmetic(True)
        self.cursor_ring.setPen(pen)
        self.cursor_ring.setZValue(2)
        self.cursor_ring.setVisible(False)
        self.scene().addItem(self.cursor_ring)
        self.setMouseTracking(True)
        self._stroke: tuple[np.ndarray, QPointF] | None = None  # (mask before, last point)
        self.set_image(self.image)
        self.refresh()

    # ------------------------------------------------------------------ showing the mask
    def refresh(self) -> None:
        """Redraw the red overlay from the mask array."""
        h, w = self.mask.shape
        rgba = np.empty((h, w, 4), np.uint8)
        rgba[..., :3] = OVERLAY_RGB
        rgba[..., 3] = (self.mask.astype(np.float32) * self.opacity).astype(np.uint8)
        image = QImage(rgba.data, w, h, w * 4, QImage.Format.Format_RGBA8888).copy()
        self.overlay.setPixmap(QPixmap.fromImage(image))
        self.mask_changed.emit()

    def replace_mask(self, mask: np.ndarray) -> None:
        self.mask[...] = mask
        self.refresh()

    def set_opacity(self, opacity: float) -> None:
        self.opacity = min(max(opacity, 0.0), 1.0)
        self.refresh()

    # ------------------------------------------------------------------ whole-mask edits
    def edit(self, text: str, change) -> None:
        """Apply `change(mask)` as one undoable step."""
        before = self.mask.copy()
        change(self.mask)
        if np.array_equal(before, self.mask):
            return
        self.refresh()
        self.undo_stack.push(MaskChange(self, before, text))

    def clear(self) -> None:
        self.edit("Clear mask", ops.clear)

    def invert(self) -> None:
        self.edit("Invert mask", ops.invert)

    def fill_at(self, x: int, y: int) -> None:
        self.edit("Fill", lambda m: ops.flood_fill(m, x, y, ops.PAINT))

    # ------------------------------------------------------------------ the brush
    def _value(self) -> int:
        return ops.ERASE if self.tool is Tool.ERASER else ops.PAINT

    def _show_ring(self, point: QPointF) -> None:
        r = self.radius
        self.cursor_ring.setRect(QRectF(point.x() - r, point.y() - r, 2 * r, 2 * r))
        self.cursor_ring.setVisible(self.tool is not Tool.FILL)

    def mousePressEvent(self, event) -> None:
        if self.wants_pan(event) or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        point = self.mapToScene(event.position().toPoint())
        if self.tool is Tool.FILL:
            self.fill_at(int(point.x()), int(point.y()))
        else:
            before = self.mask.copy()
            ops.stamp(self.mask, point.x(), point.y(), self.radius, self.hardness, self._value())
            self._stroke = (before, point)
            self.refresh()
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        point = self.mapToScene(event.position().toPoint())
        self._show_ring(point)
        if self._stroke is not None and event.buttons() & Qt.MouseButton.LeftButton:
            before, last = self._stroke
            ops.stroke(self.mask, (last.x(), last.y()), (point.x(), point.y()), self.radius,
                       self.hardness, self._value())
            self._stroke = (before, point)
            self.refresh()
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._stroke is not None and event.button() == Qt.MouseButton.LeftButton:
            before, _ = self._stroke
            self._stroke = None
            if not np.array_equal(before, self.mask):
                name = "Erase" if self.tool is Tool.ERASER else "Paint"
                self.undo_stack.push(MaskChange(self, before, name))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        self.cursor_ring.setVisible(False)
        super().leaveEvent(event)
