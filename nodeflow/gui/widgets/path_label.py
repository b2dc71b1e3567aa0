"""A one-line label for a folder path in a narrow panel: what does not fit is left out from the
middle of the path, whole folders at a time, so the folder's own name stays readable
("/home/…/renders/txt2img"); `text()` and the tooltip stay the whole path."""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QStyleOption


def shorten_path(path: str, metrics: QFontMetrics, room: int) -> str:
    """`path` if it fits in `room` pixels; else as many last folders as fit (the last one always),
    then as many first ones, around "…"; a last folder too long even alone is cut in its middle."""
    if metrics.horizontalAdvance(path) <= room:
        return path
    sep = os.sep if os.sep in path else "/"
    parts = path.split(sep)
    for tail in range(len(parts) - 1, 0, -1):
        for head in range(len(parts) - tail - 1, -1, -1):
            shown = sep.join([*parts[:head], "…", *parts[len(parts) - tail:]])
            if metrics.horizontalAdvance(shown) <= room:
                return shown
    return metrics.elidedText(path, Qt.TextElideMode.ElideMiddle, room)


class PathLabel(QLabel):
    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setToolTip(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def shown_text(self) -> str:
        return shorten_path(self.text(), self.fontMetrics(), self.contentsRect().width())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("…/…"), super().minimumSizeHint().height())

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                                  option.palette, self.isEnabled(), self.shown_text(), QPalette.ColorRole.WindowText)
