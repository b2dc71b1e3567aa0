"""A group frame. Dragging its title moves the frame and the nodes inside it; the corner resizes."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from nodeflow.core.graph import Group
from nodeflow.gui import theme
from nodeflow.gui.canvas.detail import Detail, detail_for
from nodeflow.gui.canvas.host import CanvasHost

GROUP_TITLE_H = 30.0
HANDLE = 14.0


class GroupItem(QGraphicsItem):
    def __init__(self, host: CanvasHost, group: Group):
        super().__init__()
        self.host = host
        self.group = group
        self.members: list[QGraphicsItem] = []
        self.resizing = False
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setZValue(-10)
        self.sync()

    @property
    def group_id(self) -> str:
        return self.group.id

    def sync(self) -> None:
        x, y, w, h = self.group.rect
        self.prepareGeometryChange()
        self._size = (float(w), float(h))
        self.setPos(float(x), float(y))
        self.update()

    def frame_rect(self) -> QRectF:
        return QRectF(0, 0, *self._size)

    def boundingRect(self) -> QRectF:
        return self.frame_rect().adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        """Only the title bar and the resize corner catch the mouse; the inside is canvas."""
        path = QPainterPath()
        w, h = self._size
        path.addRect(QRectF(0, 0, w, GROUP_TITLE_H))
        path.addRect(QRectF(w - HANDLE, h - HANDLE, HANDLE, HANDLE))
        return path

    def color(self) -> QColor:
        return QColor(self.group.color) if self.group.color else theme.GROUP_DEFAULT

    def paint(self, painter, option, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        rect = self.frame_rect()
        color = self.color()
        fill = QColor(color)
        fill.setAlpha(60)
        painter.setPen(QPen(color.lighter(130) if self.isSelected() else color, 1.5))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 6, 6)
        head = QColor(color)
        head.setAlpha(170)
        painter.fillRect(QRectF(1, 1, rect.width() - 2, GROUP_TITLE_H - 1), head)
        font = QFont()
        font.setPointSizeF(12)
        font.setBold(True)
        if detail_for(lod, font) >= Detail.TITLES:
            painter.setFont(font)
            painter.setPen(theme.NODE_TEXT)
            painter.drawText(QRectF(10, 0, rect.width() - 20, GROUP_TITLE_H),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.group.title)
            painter.drawLine(QPointF(rect.width() - 4, rect.height() - HANDLE + 2),
                             QPointF(rect.width() - HANDLE + 2, rect.height() - 4))

    # -- moving and resizing -------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        w, h = self._size
        if event.pos().x() >= w - HANDLE and event.pos().y() >= h - HANDLE:
            self.resizing = True
            event.accept()
            return
        self.members = self.host.nodes_inside(self.sceneBoundingRect())
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self.resizing:
            self.prepareGeometryChange()
            self._size = (max(120.0, event.pos().x()), max(GROUP_TITLE_H + 20, event.pos().y()))
            self.update()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self.resizing:
            self.resizing = False
            x, y, _w, _h = self.group.rect
            self.host.edits.set_group(self.group_id, rect=[x, y, round(self._size[0]),
                                                                     round(self._size[1])])
            return
        super().mouseReleaseEvent(event)  # the scene commits the move (NodeScene.mouseReleaseEvent)
        self.members = []

    def mouseDoubleClickEvent(self, event) -> None:
        self.host.request_rename_group(self.group_id)

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.members:
            delta = value - self.pos()
            for item in self.members:
                if not item.isSelected():  # selected nodes are moved by Qt already
                    item.moveBy(delta.x(), delta.y())
        return super().itemChange(change, value)
