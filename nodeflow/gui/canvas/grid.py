"""The canvas grid: minor lines every grid step, a major line every fifth, thinned out when zoomed
out so lines never come closer than 12 screen pixels."""

from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QPainter, QPen

from nodeflow.gui import theme


def draw_grid(painter: QPainter, rect: QRectF, grid: float, zoom: float) -> None:
    """Fill the background of `rect` (scene units) and draw the grid on it."""
    painter.fillRect(rect, theme.BACKGROUND)
    step = grid
    while step * zoom < 12:
        step *= 5
    lines_minor, lines_major = [], []
    left, top = math.floor(rect.left() / step) * step, math.floor(rect.top() / step) * step
    x = left
    while x < rect.right():
        (lines_major if round(x / step) % 5 == 0 else lines_minor).append(QLineF(x, rect.top(), x, rect.bottom()))
        x += step
    y = top
    while y < rect.bottom():
        (lines_major if round(y / step) % 5 == 0 else lines_minor).append(QLineF(rect.left(), y, rect.right(), y))
        y += step
    pen = QPen(theme.GRID_MINOR, 0)
    painter.setPen(pen)
    painter.drawLines(lines_minor)
    pen.setColor(theme.GRID_MAJOR)
    painter.setPen(pen)
    painter.drawLines(lines_major)
