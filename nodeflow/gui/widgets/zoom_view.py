"""A picture you can zoom (wheel, around the cursor) and pan (middle drag, or Space + drag).

Shared by the output viewer and the mask editor, so both move the same way. The picture sits at
scene (0, 0) in pixel units, so scene coordinates are pixel coordinates for anyone on top.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

MIN_ZOOM, MAX_ZOOM = 0.05, 32.0
WHEEL_STEP = 1.25


class ZoomView(QGraphicsView):
    zoom_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.picture = QGraphicsPixmapItem()
        self.picture.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.picture)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(QColor(24, 25, 29))
        self._pan_from: QPointF | None = None
        self._fitted = True  # follow the window size until the user zooms
        self._space_down = False  # a held key is not in mouse events; Space + drag pans

    # ------------------------------------------------------------------ picture and zoom
    def set_image(self, image: QImage | None, keep_view: bool = False) -> None:
        """Show `image` (None: nothing); fit it unless `keep_view` and the size did not change."""
        old = self.picture.pixmap().size()
        self.picture.setPixmap(QPixmap.fromImage(image) if image is not None else QPixmap())
        if not keep_view or old != self.picture.pixmap().size() or self._fitted:
            self.fit()

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to `zoom` (1 = one screen pixel per picture pixel), keeping `anchor` (scene) in place."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        anchor = anchor if anchor is not None else self.mapToScene(self.viewport().rect().center())
        before = self.mapFromScene(anchor)
        self.resetTransform()
        self.scale(zoom, zoom)
        self._room_to_pan(zoom)
        after = self.mapFromScene(anchor)
        self._scroll_by(after.x() - before.x(), after.y() - before.y())
        self._fitted = False
        self.zoom_changed.emit(zoom)

    def fit(self) -> None:
        """Show the whole picture, as large as the view allows."""
        rect = self.picture.boundingRect()
        if rect.isEmpty():
            return
        self.resetTransform()
        self._room_to_pan(1.0)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._fitted = True
        self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120
        if not steps:
            return
        self.set_zoom(self.zoom() * WHEEL_STEP ** steps, self.mapToScene(event.position().toPoint()))
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    def _room_to_pan(self, zoom: float) -> None:
        """A scene larger than the picture by a viewport on each side, so any point can be centred."""
        rect = self.picture.boundingRect()
        margin = max(self.viewport().width(), self.viewport().height(), 1) / zoom
        self.setSceneRect(rect.adjusted(-margin, -margin, margin, margin))

    def _scroll_by(self, dx: float, dy: float) -> None:
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(dx))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(dy))

    # ------------------------------------------------------------------ panning
    def wants_pan(self, event) -> bool:
        """Middle button, or the left button while Space is held (read from the event's state)."""
        buttons = event.buttons()
        if buttons & Qt.MouseButton.MiddleButton:
            return True
        return bool(buttons & Qt.MouseButton.LeftButton) and self._space_down

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.viewport().unsetCursor()
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        if self.wants_pan(event):
            self._pan_from = event.position()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self._scroll_by(-delta.x(), -delta.y())
            self._fitted = False
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            event.accept()
            return
        super().mouseReleaseEvent(event)
