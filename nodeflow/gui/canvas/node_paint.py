"""How a node looks, at three levels of detail (from the on-screen size of its text, see detail.py).

Zoomed out, a node is two filled rectangles; at reading distance it gets titles, sockets and its
parameter widgets. A reroute is a dot in the colour of the type it carries. Nothing here changes
state.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QStaticText, QTransform

from nodeflow.core.graph import NodeMode
from nodeflow.gui import theme
from nodeflow.gui.canvas.detail import Detail, detail_for, text_scale
from nodeflow.gui.canvas.host import PaintedNode
from nodeflow.gui.canvas.layout import PAD, SOCKET_R, TITLE_H, WidgetRow
from nodeflow.gui.widgets import values
from nodeflow.gui.widgets.seed_control import SeedControls
from nodeflow.gui.wire_rules import SocketRef

_fonts: dict[str, QFont] = {}


def font(kind: str) -> QFont:
    if kind not in _fonts:
        f = QFont()
        f.setPointSizeF({"title": 9.5, "small": 8.0}.get(kind, 8.5))
        if kind == "title":
            f.setBold(True)
        _fonts[kind] = f
    return _fonts[kind]


_static: dict[tuple[str, str], QStaticText] = {}


def _text(painter: QPainter, rect: QRectF, text: str, kind: str, right: bool = False, grow: float = 1.0) -> None:
    """One line of text, vertically centred in `rect`, left or right aligned, with the painter's
    current font (which must be `font(kind)`), `grow` times its size (`detail.text_scale`). Laid out
    once and kept: QStaticText draws fast."""
    key = (text, kind)
    static = _static.get(key)
    if static is None:
        if len(_static) > 5000:
            _static.clear()
        static = QStaticText(text)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.prepare(QTransform(), font(kind))
        _static[key] = static
    size = static.size() * grow
    at = QPointF(rect.right() - size.width() if right else rect.left(), rect.center().y() - size.height() / 2)
    if grow == 1.0:
        painter.drawStaticText(at, static)
        return
    painter.save()
    painter.translate(at)
    painter.scale(grow, grow)
    painter.drawStaticText(QPointF(0, 0), static)
    painter.restore()


def _wrapped(painter: QPainter, rect: QRectF, text: str, grow: float) -> None:
    """Text wrapped into `rect`, `grow` times the current font's size."""
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
    painter.save()
    painter.translate(rect.topLeft())
    painter.scale(grow, grow)
    painter.drawText(QRectF(0, 0, rect.width() / grow, rect.height() / grow), flags, text)
    painter.restore()


def title_color(item: PaintedNode) -> QColor:
    if item.record.ui.get("color"):
        return QColor(str(item.record.ui["color"]))
    if item.cls is None:
        return theme.PLACEHOLDER
    return theme.category_color(item.cls.category)


def border_pen(item: PaintedNode) -> QPen:
    state = item.run.state
    if item.isSelected():
        return QPen(theme.NODE_SELECTED, 2.0)
    if item.run.problems or state in ("failed", "invalid"):
        return QPen(theme.ERROR, 2.5)
    if state in theme.STATE_COLORS and state != "skipped":
        return QPen(theme.STATE_COLORS[state], 2.0)
    return QPen(theme.NODE_BORDER, 1.0)


def paint_node(item: PaintedNode, painter: QPainter, lod: float) -> None:
    layout = item.layout
    if layout.dot:
        _paint_dot(item, painter)
        return
    body = item.body_rect()
    head = QRectF(0, 0, layout.width, TITLE_H)
    detail = detail_for(lod, font("normal"))  # from how tall the text ends up on screen
    grow = text_scale(lod, font("normal"))  # zoomed out a little: text a little larger, still readable
    full = detail is Detail.FULL and not layout.collapsed
    if detail is Detail.SHAPES:  # far away: shapes only, no antialiasing, no text
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.fillRect(body, theme.NODE_BODY)
        painter.fillRect(head, title_color(item))
        pen = border_pen(item)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(body)
        _paint_mode(item, painter, body, lod)
        return
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(theme.NODE_BODY)
    painter.drawRoundedRect(body, 6, 6)
    painter.setBrush(title_color(item))
    if layout.collapsed:
        painter.drawRoundedRect(head, 6, 6)
    else:
        painter.drawRoundedRect(head, 6, 6)
        painter.drawRect(QRectF(0, TITLE_H - 6, layout.width, 6))
    _paint_title(item, painter, head, grow)
    _paint_sockets(item, painter, full, grow)
    if full:
        for row in layout.widgets:
            _paint_widget(item, painter, row, grow)
        _paint_image(item, painter)
    if item.run.progress is not None:
        bar = QRectF(0, TITLE_H - 3, layout.width * item.run.progress, 3)
        painter.fillRect(bar, theme.STATE_COLORS["running"])
    if full:  # resize grip
        painter.setPen(QPen(theme.NODE_TEXT_DIM, 1.0))
        w, h = layout.width, layout.height
        painter.drawLine(QPointF(w - 4, h - 10), QPointF(w - 10, h - 4))
        painter.drawLine(QPointF(w - 4, h - 6), QPointF(w - 6, h - 4))
    painter.setPen(border_pen(item))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(body, 6, 6)
    _paint_mode(item, painter, body, lod)


def _paint_dot(item: PaintedNode, painter: QPainter) -> None:
    layout = item.layout
    r = layout.height / 2
    plain = not item.isSelected() and not item.run.problems and item.run.state in ("", "skipped")
    painter.setPen(QPen(QColor(0, 0, 0, 170), 1.0) if plain else border_pen(item))
    painter.setBrush(theme.type_color(item.carried_type))
    painter.drawEllipse(QPointF(r, r), r - 3, r - 3)
    for is_output, table in ((False, layout.inputs), (True, layout.outputs)):
        for name, y in table.items():
            color = theme.type_color(item.carried_type)
            dim = _dimmed(item, name, is_output)
            if dim:
                color = QColor(color.red(), color.green(), color.blue(), 50)
            painter.setPen(QPen(QColor(0, 0, 0, 40 if dim else 160), 1.0))
            painter.setBrush(color)
            painter.drawEllipse(QPointF(layout.width if is_output else 0.0, y), 4.0, 4.0)
    if item.record.mode != NodeMode.NORMAL:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.MUTED_TINT if item.record.mode == NodeMode.MUTED else theme.BYPASS_TINT)
        painter.drawEllipse(QPointF(r, r), r - 3, r - 3)


def _dimmed(item: PaintedNode, name: str, is_output: bool) -> bool:
    """Whether a socket is greyed out because the wire being dragged cannot go there."""
    rules = item.host.wire_rules
    ref = SocketRef(item.node_id, name, is_output)
    return rules is not None and rules.start != ref and not rules.allows(ref)


def _paint_mode(item: PaintedNode, painter: QPainter, body: QRectF, lod: float) -> None:
    mode = item.record.mode
    if mode == NodeMode.NORMAL:
        return
    tint = theme.MUTED_TINT if mode == NodeMode.MUTED else theme.BYPASS_TINT
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(tint)
    painter.drawRoundedRect(body, 6, 6)


def _paint_title(item: PaintedNode, painter: QPainter, head: QRectF, grow: float) -> None:
    painter.setFont(font("title"))
    painter.setPen(theme.TITLE_TEXT)
    badge = _state_badge(item)
    text_rect = head.adjusted(10, 0, -8, 0)
    if badge:
        painter.setFont(font("small"))
        painter.setPen(theme.STATE_COLORS.get(item.run.state, theme.NODE_TEXT).lighter(140))
        _text(painter, text_rect, badge, "small", right=True, grow=grow)
        text_rect.setRight(text_rect.right() - painter.fontMetrics().horizontalAdvance(badge) * grow - 6)
        painter.setFont(font("title"))
        painter.setPen(theme.TITLE_TEXT)
    title = f"#{item.node_id}  {item.title}" if item.host.show_ids else item.title
    elided = painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, int(text_rect.width() / grow))
    _text(painter, text_rect, elided, "title", grow=grow)


def _state_badge(item: PaintedNode) -> str:
    run = item.run
    if run.state == "done" and run.seconds is not None:
        return f"{run.seconds:.2f}s"
    if run.state == "running" and run.progress is not None:
        return f"{int(run.progress * 100)}%"
    if run.state in ("queued", "running", "cached", "failed", "skipped"):
        return run.state
    return item.record.mode if item.record.mode != NodeMode.NORMAL else ""


def _paint_sockets(item: PaintedNode, painter: QPainter, show_labels: bool, grow: float) -> None:
    layout = item.layout
    rules = item.host.wire_rules
    painter.setFont(font("normal"))
    for is_output, table, types in ((False, layout.inputs, layout.input_types),
                                    (True, layout.outputs, layout.output_types)):
        x = layout.width if is_output else 0.0
        for name, y in table.items():
            color = theme.type_color(types.get(name, "*"))
            dim = _dimmed(item, name, is_output)
            if dim:
                color = QColor(color.red(), color.green(), color.blue(), 50)
            painter.setPen(QPen(QColor(0, 0, 0, 160 if not dim else 40), 1.0))
            painter.setBrush(color)
            painter.drawEllipse(QPointF(x, y), SOCKET_R, SOCKET_R)
            if show_labels:
                painter.setPen(theme.NODE_TEXT_DIM if dim else theme.NODE_TEXT)
                rect = QRectF(x - layout.width / 2 - 10, y - 9, layout.width / 2, 18) if is_output \
                    else QRectF(x + 10, y - 9, layout.width / 2, 18)
                _text(painter, rect, name, "normal", right=is_output, grow=grow)
    if rules is not None and show_labels:  # parameters accept links too: show where while wiring
        for row in layout.widgets:
            if row.input is None or ":" in row.name:
                continue
            ref = SocketRef(item.node_id, row.name, False)
            if rules.allows(ref):
                painter.setPen(QPen(QColor(0, 0, 0, 160), 1.0))
                painter.setBrush(theme.type_color(row.input.type))
                painter.drawEllipse(QPointF(0, row.y + row.height / 2), SOCKET_R - 1, SOCKET_R - 1)


def _paint_widget(item: PaintedNode, painter: QPainter, row: WidgetRow, grow: float) -> None:
    rect = QRectF(PAD, row.y, item.layout.width - 2 * PAD, row.height)
    inp = row.input
    name = row.name
    value = item.host.graph.param_value(item.node_id, name)
    bad = name in item.run.problem_fields
    painter.setPen(QPen(theme.ERROR, 1.2) if bad else Qt.PenStyle.NoPen)
    painter.setBrush(theme.WIDGET_BG)
    painter.drawRoundedRect(rect, 4, 4)
    painter.setFont(font("normal"))
    inner = rect.adjusted(8, 0, -8, 0)
    if row.seed_control:
        mode = SeedControls.from_ui(item.record.ui).mode(name).value
        painter.setPen(theme.NODE_TEXT_DIM)
        _text(painter, inner, "after run", "normal", grow=grow)
        painter.setPen(theme.NODE_TEXT)
        _text(painter, inner, f"{mode} ▾", "normal", right=True, grow=grow)
        return
    if inp is not None and inp.multiline:
        painter.setPen(theme.NODE_TEXT if value else theme.NODE_TEXT_DIM)
        _wrapped(painter, rect.adjusted(6, 4, -6, -4), str(value) if value else name, grow)
        return
    if inp is not None and values.is_slider(inp) and isinstance(value, (int, float)):
        fill = QRectF(rect)
        fill.setWidth(rect.width() * min(1.0, max(0.0, values.slider_fraction(inp, value))))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(theme.WIDGET_FILL))
        painter.drawRoundedRect(fill, 4, 4)
    number = inp is not None and inp.type in ("INT", "FLOAT") and inp.choices is None
    if number and not values.is_slider(inp):
        painter.setPen(theme.NODE_TEXT_DIM)
        _text(painter, rect.adjusted(4, 0, 0, 0), "◂", "normal", grow=grow)
        _text(painter, rect.adjusted(0, 0, -4, 0), "▸", "normal", right=True, grow=grow)
        inner = rect.adjusted(16, 0, -16, 0)
    slider = inp is not None and values.is_slider(inp) and isinstance(value, (int, float))
    painter.setPen(theme.NODE_TEXT if slider else theme.NODE_TEXT_DIM)  # a label on the fill needs the bright text
    _text(painter, inner, name, "normal", grow=grow)
    shown = values.display(inp, value)
    if inp is not None and (inp.choices is not None or inp.model):  # a list to pick from
        shown = (shown if value else "choose…") + " ▾"
    elif inp is not None and inp.file:
        shown = "📂 " + (shown if value else "choose…")
    elif inp is not None and inp.type == "BOOLEAN":
        shown = "● on" if value else "○ off"
    painter.setPen(theme.NODE_TEXT if inp is not None else theme.NODE_TEXT_DIM)
    metrics = painter.fontMetrics()
    room = int((inner.width() - 12) / grow - metrics.horizontalAdvance(name))  # in the font's own units
    shown = metrics.elidedText(shown, Qt.TextElideMode.ElideLeft, max(room, 20))
    _text(painter, inner, shown, "normal", right=True, grow=grow)


def _paint_image(item: PaintedNode, painter: QPainter) -> None:
    if item.image is None or item.layout.image_top is None:
        return
    width = item.layout.width - 2 * PAD
    height = min(200.0, width * item.image.height() / max(1, item.image.width()))
    scale = min(width / item.image.width(), height / item.image.height())
    w, h = item.image.width() * scale, item.image.height() * scale
    target = QRectF(PAD + (width - w) / 2, item.layout.image_top, w, h)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.drawImage(target, item.image)
