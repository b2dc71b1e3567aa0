"""Canvas gestures in progress that are not wires (canvas/wiring.py): panning and cutting links."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from nodeflow.gui import theme


class Pan:
    """Dragging the canvas with the middle button (or Space held)."""

    def __init__(self, pos: QPointF):
        self.last = pos


class Cut:
    """Ctrl+right-drag: a dashed line; the wires it crosses are removed on release."""

    def __init__(self, scene: QGraphicsScene, start: QPointF):
        self.points = [start]
        self.item = QGraphicsPathItem()
        pen = QPen(theme.ERROR, 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.item.setPen(pen)
        self.item.setZValue(20)
        scene.addItem(self.item)

    def add(self, point: QPointF) -> None:
        self.points.append(point)
        path = QPainterPath(self.points[0])
        for p in self.points[1:]:
            path.lineTo(p)
        self.item.setPath(path)
