"""How much of a node to draw, and how far Frame All may zoom out, decided by text size on screen.

A fixed zoom threshold breaks as soon as fonts or screens change; what matters to the eye is how
many pixels tall the text ends up. So the level of detail is chosen from the on-screen pixel size
of the node's body font. Zoomed out a little past reading size, node text is drawn larger (up to
`MAX_TEXT_GROW` times, which still fits its rows) so it stays `READABLE_PX` tall: an overview of a
whole graph on a small screen still shows labels and values, not only titles. A file opens framed
at a zoom where labels stay readable; Frame All shows the whole graph unless that would make even
the titles unreadable (the rest of a very large graph is then one pan, or one minimap click, away).
"""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import QPointF, QRectF, QSizeF
from PySide6.QtGui import QFont, QFontInfo

#: Body text at least this many pixels tall on screen: labels and widgets are drawn. 5.5 px keeps
#: the usual 11 px text drawn down to 50% zoom (at 7 px, 60% showed empty boxes), still legible.
READABLE_PX = 5.5
#: Below this, titles are too small to read as well: nodes become coloured boxes.
TITLE_PX = 3.5
#: How much larger than its size node text may be drawn to stay readable when zoomed out: 11 px
#: text in 22 px rows (canvas/layout.ROW_H) still fits at 1.3x, and its labels keep their room.
MAX_TEXT_GROW = 1.3


class Detail(IntEnum):
    SHAPES = 0  # boxes and wires only
    TITLES = 1  # titles and sockets, no labels or widgets
    FULL = 2  # everything


def font_px(font: QFont) -> float:
    """The font's height in device-independent pixels at zoom 1."""
    return float(QFontInfo(font).pixelSize())


def detail_for(zoom: float, body_font: QFont) -> Detail:
    """The detail level at which the node's body text is `zoom` times its size."""
    size = font_px(body_font) * zoom
    if size * MAX_TEXT_GROW >= READABLE_PX - 1e-9:  # readable_zoom itself, whatever the rounding
        return Detail.FULL
    if size >= TITLE_PX:
        return Detail.TITLES
    return Detail.SHAPES


def text_scale(zoom: float, body_font: QFont) -> float:
    """How much larger than its size node text is drawn at `zoom`: enough to stay `READABLE_PX`
    tall on screen, at most `MAX_TEXT_GROW`; 1 at reading distance and closer."""
    return max(1.0, min(MAX_TEXT_GROW, READABLE_PX / max(1e-6, font_px(body_font) * zoom)))


def readable_zoom(body_font: QFont) -> float:
    """The smallest zoom at which body text is still readable (drawn up to `MAX_TEXT_GROW` larger)."""
    return READABLE_PX / (max(1.0, font_px(body_font)) * MAX_TEXT_GROW)


def overview_zoom(body_font: QFont) -> float:
    """The smallest zoom at which nodes still show their titles: an overview that is still useful."""
    return TITLE_PX / max(1.0, font_px(body_font))


def frame_zoom(rect: QRectF, viewport: QSizeF, body_font: QFont, max_zoom: float = 1.0,
               overview: bool = False) -> float:
    """The zoom that shows the whole `rect`, unless that would shrink body text past reading
    (opening a file) or, for `overview` (Frame All), even the titles; then that floor."""
    if rect.isEmpty() or viewport.isEmpty():
        return 1.0
    fit = min(viewport.width() / rect.width(), viewport.height() / rect.height())
    floor = overview_zoom(body_font) if overview else readable_zoom(body_font)
    return max(floor, min(max_zoom, fit))


def frame_centre(rect: QRectF, shown: QSizeF) -> QPointF:
    """Where Frame All centres: `rect`'s centre on each axis that fits in `shown` (scene units),
    else its top or left part, where a graph's sources are."""
    x = rect.center().x() if rect.width() <= shown.width() else rect.left() + shown.width() / 2
    y = rect.center().y() if rect.height() <= shown.height() else rect.top() + shown.height() / 2
    return QPointF(x, y)
