"""A node on the canvas. It draws the graph's record and forwards edits to the document.

The item never changes the graph itself except through `Document` (which pushes undo commands);
it re-reads its record when the scene tells it the record changed. Sockets and parameter widgets
are painted (not child widgets), so a 1,000-node graph opens fast and zooms without glitches; a
real editor widget appears only while a value is being typed.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QImageReader
from PySide6.QtWidgets import QGraphicsItem

from nodeflow.core.graph import NodeRecord, node_title
from nodeflow.core.spec import Node
from nodeflow.gui.canvas import node_paint
from nodeflow.gui.canvas.host import CanvasHost
from nodeflow.gui.canvas.layout import DOT_SOCKET_HIT, MIN_WIDTH, SOCKET_R, TITLE_H, NodeLayout, compute_layout
from nodeflow.gui.canvas.node_widgets import WidgetInteraction
from nodeflow.gui.canvas.run_state import RunState
from nodeflow.gui.mask_overlay import with_mask_overlay
from nodeflow.gui.wire_rules import SocketRef

IMAGE_MAX_H = 200.0
RESIZE_GRIP = 12.0
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


class NodeItem(QGraphicsItem):
    def __init__(self, host: CanvasHost, record: NodeRecord):
        super().__init__()
        self.host = host
        self.record = record
        self.cls: type[Node] | None = host.graph.registry.get(record.type)
        self.run = RunState()
        self.image: QImage | None = None
        self.widgets = WidgetInteraction(self)
        self._resizing = False
        self._resize_min_h = 0.0
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.setCacheMode(host.cache_mode)
        self.layout = self._compute_layout()
        self._bounds = self._compute_bounds()
        self.setPos(*self._record_pos())

    # -- record <-> item -----------------------------------------------------------------------

    @property
    def node_id(self) -> str:
        return self.record.id

    @property
    def title(self) -> str:
        return node_title(self.record, self.cls)

    def _record_pos(self) -> tuple[float, float]:
        pos = self.record.ui.get("pos") or self.host.fallback_pos.get(self.node_id, (0, 0))
        return float(pos[0]), float(pos[1])

    def _linked(self) -> set[str]:
        return self.host.linked_inputs(self.node_id)

    def _compute_layout(self, image_h: float = 0.0) -> NodeLayout:
        layout = compute_layout(self.cls, self.record, self._linked(), image_h)
        if layout.dot:  # a reroute shows the type it carries, not its declared ANY
            carried = self.host.graph.output_type(self.node_id, next(iter(layout.outputs)))
            if carried is not None:
                layout.input_types = dict.fromkeys(layout.input_types, carried)
                layout.output_types = dict.fromkeys(layout.output_types, carried)
        return layout

    @property
    def carried_type(self) -> str:
        """The type a reroute dot carries ("*" while nothing reaches it); "" for other nodes."""
        return next(iter(self.layout.output_types.values()), "*") if self.layout.dot else ""

    def relayout(self) -> None:
        image_h = 0.0
        if self.image is not None and not self.image.isNull():
            w = self.layout.width - 16
            image_h = min(IMAGE_MAX_H, w * self.image.height() / max(1, self.image.width()))
        layout = self._compute_layout(image_h)
        if (layout.width, layout.height) != (self.layout.width, self.layout.height):
            self.prepareGeometryChange()
        self.layout = layout
        self._bounds = self._compute_bounds()
        self.update()
        self.host.update_links_of(self.node_id)

    def sync(self) -> None:
        """Re-read position, title, colour, mode and layout from the record."""
        x, y = self._record_pos()
        if (self.pos().x(), self.pos().y()) != (x, y):
            self.setPos(x, y)
        self.relayout()

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.relayout()

    def load_file_thumbnail(self) -> None:
        """Show the picture a Load Image style node points at (any image file parameter), with
        the mask painted on it tinted over it."""
        if self.cls is None:
            return
        for inp in self.cls.inputs:
            value = self.record.params.get(inp.name)
            if inp.file and isinstance(value, str) and value.lower().endswith(IMAGE_SUFFIXES):
                path = self.host.resolve_file(value)
                reader = QImageReader(str(path) if path is not None else "")
                reader.setAutoTransform(True)  # as the node and the mask editor read it
                image = reader.read()
                mask = next((self.record.params.get(i.name) for i in self.cls.inputs if i.widget == "mask"), "")
                if not image.isNull() and mask:
                    image = with_mask_overlay(image, str(mask))
                if not image.isNull():
                    image = image.scaled(256, 256, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)
                self.set_image(None if image.isNull() else image)
                return

    # -- geometry ------------------------------------------------------------------------------

    def _compute_bounds(self) -> QRectF:
        m = SOCKET_R + 3
        return QRectF(-m, -m, self.layout.width + 2 * m, self.layout.height + 2 * m)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def body_rect(self) -> QRectF:
        return QRectF(0, 0, self.layout.width, self.layout.height)

    def socket_local(self, name: str, is_output: bool) -> QPointF | None:
        table = self.layout.outputs if is_output else self.layout.inputs
        if name not in table:
            if is_output:
                return None
            row = next((w for w in self.layout.widgets if w.name == name), None)
            return QPointF(0, row.y + row.height / 2) if row else None
        return QPointF(self.layout.width if is_output else 0.0, table[name])

    def socket_scene_pos(self, name: str, is_output: bool) -> QPointF:
        local = self.socket_local(name, is_output)
        if local is None:
            local = QPointF(self.layout.width if is_output else 0.0, self.layout.height / 2)
        return self.mapToScene(local)

    def socket_at(self, local: QPointF, radius: float = 10.0) -> SocketRef | None:
        """The socket under a point in item coordinates (generous radius, like a fingertip)."""
        if self.layout.dot:  # the middle of a dot is for moving it
            radius = min(radius, DOT_SOCKET_HIT)
        best, best_d = None, radius * radius
        for is_output, table in ((False, self.layout.inputs), (True, self.layout.outputs)):
            x = self.layout.width if is_output else 0.0
            for name, y in table.items():
                d = (local.x() - x) ** 2 + (local.y() - y) ** 2
                if d <= best_d:
                    best, best_d = SocketRef(self.node_id, name, is_output), d
        if best is None and not self.layout.collapsed and abs(local.x()) <= radius:
            for row in self.layout.widgets:  # a parameter takes a link dropped at its left edge
                if row.input is not None and row.y <= local.y() <= row.y + row.height:
                    return SocketRef(self.node_id, row.name, False)
        return best

    # -- painting ------------------------------------------------------------------------------

    def paint(self, painter, option, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        node_paint.paint_node(self, painter, lod)

    # -- events --------------------------------------------------------------------------------

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.host.snap:
            grid = self.host.grid
            return QPointF(round(value.x() / grid) * grid, round(value.y() / grid) * grid)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            self.host.update_links_of(self.node_id)
        return super().itemChange(change, value)

    def in_resize_corner(self, local: QPointF) -> bool:
        lay = self.layout
        if lay.collapsed or lay.dot:
            return False
        return local.x() >= lay.width - RESIZE_GRIP and local.y() >= lay.height - RESIZE_GRIP

    def mousePressEvent(self, event) -> None:
        left = event.button() == Qt.MouseButton.LeftButton
        if left and self.in_resize_corner(event.pos()):
            natural = dataclasses.replace(self.record, ui={k: v for k, v in self.record.ui.items() if k != "size"})
            self._resize_min_h = compute_layout(self.cls, natural, self._linked()).height
            self._resizing = True
            event.accept()
            return
        if left and self.widgets.press(event):
            event.accept()
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:  # Shift adds to the selection
            self.setSelected(True)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._resizing:
            self.prepareGeometryChange()
            self.layout.width = max(MIN_WIDTH, round(event.pos().x()))
            self.layout.height = max(self._resize_min_h, round(event.pos().y()))
            self._bounds = self._compute_bounds()
            self.host.update_links_of(self.node_id)
            self.update()
            return
        if self.widgets.active:
            self.widgets.move(event)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._resizing:
            self._resizing = False
            size = [round(self.layout.width), round(self.layout.height)]
            self.host.edits.set_ui(self.node_id, "Resize", size=size)
            return
        if self.widgets.active:
            self.widgets.release(event)
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            return  # Qt's release would drop the rest of the selection
        super().mouseReleaseEvent(event)  # the scene commits the move (NodeScene.mouseReleaseEvent)

    def mouseDoubleClickEvent(self, event) -> None:
        if event.pos().y() <= TITLE_H and not self.layout.dot:
            self.host.request_rename(self.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def hoverMoveEvent(self, event) -> None:
        tip = self.run.message or "\n".join(self.run.problems)
        sock = self.socket_at(event.pos())
        self.host.show_compatible(sock)
        if sock is not None:
            types = self.layout.output_types if sock.is_output else self.layout.input_types
            tip = f"{sock.name}: {types.get(sock.name, '?')}"
        elif not tip and self.cls is not None and event.pos().y() <= TITLE_H:
            tip = self.cls.description or self.cls.type_id
        elif not tip and self.cls is None:
            tip = f"Unknown node type '{self.record.type}': install the plugin that provides it."
        if tip != self.toolTip():
            self.setToolTip(tip)

    def hoverLeaveEvent(self, event) -> None:
        self.host.show_compatible(None)
        super().hoverLeaveEvent(event)
