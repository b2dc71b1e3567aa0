"""A small picture of a workflow's layout: each node a rectangle in its category's colour, where
it stands. What the Start panel shows beside each example (no run, no model needed)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap

from nodeflow.gui import theme

SIZE = (96, 60)
DEFAULT_NODE = (220.0, 120.0)


def node_boxes(data: Any) -> list[tuple[QRectF, str]]:
    """(rectangle, category) of each node of NodeFlow or ComfyUI UI workflow data that has a position."""
    boxes = []
    for node in data.get("nodes", []) if isinstance(data, dict) else []:
        pos, size = node.get("pos"), node.get("size") or DEFAULT_NODE
        if isinstance(size, dict):
            size = [size.get("0", DEFAULT_NODE[0]), size.get("1", DEFAULT_NODE[1])]
        if isinstance(pos, dict):
            pos = [pos.get("0"), pos.get("1")]
        try:
            rect = QRectF(float(pos[0]), float(pos[1]), float(size[0]), float(size[1]))
        except (TypeError, ValueError, IndexError):
            continue
        type_id = str(node.get("type", ""))
        boxes.append((rect, type_id.split(".", 1)[0] if "." in type_id else type_id))
    return boxes


def thumbnail(data: Any, size: tuple[int, int] = SIZE) -> QPixmap:
    pixmap = QPixmap(*size)
    pixmap.fill(QColor(30, 31, 35))
    boxes = node_boxes(data)
    if not boxes:
        return pixmap
    world = QRectF(boxes[0][0])
    for rect, _ in boxes:
        world = world.united(rect)
    world.adjust(-40, -40, 40, 40)
    scale = min(size[0] / world.width(), size[1] / world.height())
    dx, dy = (size[0] - world.width() * scale) / 2, (size[1] - world.height() * scale) / 2
    painter = QPainter(pixmap)
    painter.setPen(Qt.PenStyle.NoPen)
    for rect, category in boxes:
        painter.setBrush(theme.category_color(category).lighter(115))
        painter.drawRect(QRectF(dx + (rect.x() - world.x()) * scale, dy + (rect.y() - world.y()) * scale,
                                max(2.0, rect.width() * scale), max(2.0, rect.height() * scale)))
    painter.end()
    return pixmap
