"""A wire between two sockets: a plain QGraphicsPathItem, so Qt paints it without Python calls."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from nodeflow.core.graph import Link
from nodeflow.gui import theme


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """A horizontal S-curve from an output at `a` to an input at `b`."""
    path = QPainterPath(a)
    dx = max(abs(b.x() - a.x()) * 0.5, 40.0)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


def wire_pen(type_name: str, dashed: bool = False) -> QPen:
    pen = QPen(theme.type_color(type_name), 2.4)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen


class LinkItem(QGraphicsPathItem):
    def __init__(self, link: Link, type_name: str):
        super().__init__()
        self.link = link
        self.type_name = type_name
        self.highlighted = False
        self.setPen(wire_pen(type_name))
        self.setZValue(-1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)

    def set_ends(self, a: QPointF, b: QPointF) -> None:
        self.setPath(wire_path(a, b))

    def set_type(self, type_name: str) -> None:
        """Recolour the wire (what a reroute carries changed)."""
        if type_name != self.type_name:
            self.type_name = type_name
            self.set_highlighted(self.highlighted)


    def set_highlighted(self, on: bool) -> None:
        self.highlighted = on
        pen = wire_pen(self.type_name)
        if on:
            pen.setWidthF(4.5)
            pen.setColor(pen.color().lighter(150))
        self.setPen(pen)
        self.setZValue(0 if on else -1)

    def samples(self, count: int = 24) -> list[QPointF]:
        path = self.path()
        return [path.pointAtPercent(i / count) for i in range(count + 1)]


class WireDragItem(QGraphicsPathItem):
    """The loose wire that follows the mouse while wiring."""

    def __init__(self, type_name: str):
        super().__init__()
        self.setPen(wire_pen(type_name, dashed=False))
        self.setZValue(5)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
