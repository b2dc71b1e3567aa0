"""A wire between two sockets: a plain QGraphicsPathItem, so Qt paints it without Python calls; its
path comes from `wire_route` (around the nodes in its way)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from nodeflow.core.graph import Link
from nodeflow.gui import theme
from nodeflow.gui.canvas.wire_route import Obstacles, route


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

    def set_ends(self, a: QPointF, b: QPointF, obstacles: Obstacles | None = None) -> None:
        """Lay the wire from `a` to `b`, around the `obstacles` in its way (`wire_route`)."""
        self.setPath(route(a, b, obstacles))

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
