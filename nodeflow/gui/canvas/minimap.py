"""A minimap in a canvas corner: every node as a dot-sized rectangle, the view as a frame.
Click or drag in it to move the view there. It moves to the corner that hides the fewest nodes;
View > Minimap hides it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsView, QWidget

from nodeflow.gui.canvas.node_paint import title_color
from nodeflow.gui.canvas.scene import NodeScene

SIZE = (200, 130)
MARGIN = 10


class Minimap(QWidget):
    def __init__(self, view: QGraphicsView, scene: NodeScene):
        super().__init__(view)
        self.view = view
        self.node_scene = scene
        self.resize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._dirty = True
        self._picture: tuple[QPixmap, QRectF, float, QPointF] | None = None
        scene.changed.connect(self._mark)
        for bar in (view.horizontalScrollBar(), view.verticalScrollBar()):
            bar.valueChanged.connect(self._mark)  # a pan can bring nodes under it
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._refresh)
        self._timer.start()

    def _mark(self, *_args) -> None:
        self._dirty = True

    def _refresh(self) -> None:
        if self._dirty and self.isVisible():
            self._dirty = False
            self._picture = None
            self.place()
            self.update()

    def place(self) -> None:
        """Into the corner of the canvas where it hides the least of the nodes in view (bottom
        right when that is free): the minimap must not sit on what the user is working on."""
        vp = self.view.viewport().rect()
        corners = [QPoint(vp.right() - SIZE[0] - MARGIN, vp.bottom() - SIZE[1] - MARGIN),
                   QPoint(vp.left() + MARGIN, vp.bottom() - SIZE[1] - MARGIN),
                   QPoint(vp.right() - SIZE[0] - MARGIN, vp.top() + MARGIN),
                   QPoint(vp.left() + MARGIN, vp.top() + MARGIN)]
        nodes = [self.view.mapFromScene(item.sceneBoundingRect()).boundingRect()
                 for item in self.node_scene.nodes.values()]

        def hidden(corner: QPoint) -> int:
            box = QRect(corner, QSize(*SIZE))
            return sum(box.intersected(r).width() * box.intersected(r).height() for r in nodes if box.intersects(r))

        best = min(corners, key=hidden)  # min keeps the first (bottom right) on a tie
        if best != self.pos():
            self.move(best)
            self._picture = None

    def _world(self) -> QRectF:
        rect = QRectF()
        for item in self.node_scene.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        return (rect.united(visible) if not rect.isNull() else visible).adjusted(-50, -50, 50, 50)

    def _mapping(self) -> tuple[QRectF, float, QPointF]:
        world = self._world()
        scale = min(self.width() / world.width(), self.height() / world.height())
        offset = QPointF((self.width() - world.width() * scale) / 2, (self.height() - world.height() * scale) / 2)
        return world, scale, offset

    def _render(self) -> tuple[QPixmap, QRectF, float, QPointF]:
        """The nodes drawn once into a pixmap; repainting the minimap only draws the view frame."""
        world, scale, offset = self._mapping()
        pixmap = QPixmap(self.size())
        pixmap.fill(QColor(20, 21, 24, 215))
        painter = QPainter(pixmap)

        def to_map(r: QRectF) -> QRectF:
            return QRectF(offset.x() + (r.x() - world.x()) * scale, offset.y() + (r.y() - world.y()) * scale,
                          max(2.0, r.width() * scale), max(2.0, r.height() * scale))

        for item in self.node_scene.groups.values():
            color = item.color()
            color.setAlpha(90)
            painter.fillRect(to_map(item.sceneBoundingRect()), color)
        for item in self.node_scene.nodes.values():
            painter.fillRect(to_map(item.sceneBoundingRect()), title_color(item).lighter(120))
        painter.end()
        return pixmap, world, scale, offset

    def paintEvent(self, event) -> None:
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        if self._picture is None or not self._picture[1].contains(visible):
            self._picture = self._render()
        pixmap, world, scale, offset = self._picture
        painter = QPainter(self)
        painter.drawPixmap(0, 0, pixmap)
        frame = QRectF(offset.x() + (visible.x() - world.x()) * scale,
                       offset.y() + (visible.y() - world.y()) * scale,
                       visible.width() * scale, visible.height() * scale)
        painter.setPen(QPen(QColor("#e0e0e0"), 1))
        painter.drawRect(frame)
        painter.setPen(QPen(QColor("#3a3d43"), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))

    def mousePressEvent(self, event) -> None:
        self._jump(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(event.position())

    def _jump(self, point: QPointF) -> None:
        world, scale, offset = self._picture[1:] if self._picture else self._mapping()
        target = QPointF(world.x() + (point.x() - offset.x()) / scale, world.y() + (point.y() - offset.y()) / scale)
        self.view.centerOn(target)
        self._dirty = True
        self.update()
