"""The canvas view: pan, zoom around the cursor, grid, wiring, the cut gesture and drops.

Mouse state is read from each event (buttons, modifiers); the only state kept is the gesture in
progress (a wire, a pan or a cut), which is an object, not a set of booleans.
"""

from __future__ import annotations

import json
import math

from PySide6.QtCore import QMimeData, QPointF, QRectF, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView

from nodeflow.core.graph import Link
from nodeflow.gui import wire_habits, wire_rules
from nodeflow.gui.canvas import node_paint
from nodeflow.gui.canvas.detail import frame_centre, frame_zoom
from nodeflow.gui.canvas.gestures import Cut, Pan
from nodeflow.gui.canvas.grid import draw_grid
from nodeflow.gui.canvas.layout import DOT_D
from nodeflow.gui.canvas.link_item import LinkItem
from nodeflow.gui.canvas.menus import show_context_menu
from nodeflow.gui.canvas.minimap import Minimap
from nodeflow.gui.canvas.placement import land_visible
from nodeflow.gui.canvas.scene import NodeScene
from nodeflow.gui.canvas.title_editor import GroupTitleEditor
from nodeflow.gui.canvas.wire_hits import link_near, links_crossing
from nodeflow.gui.canvas.wiring import WireDrag, WireResult
from nodeflow.gui.edit_actions import EditActions
from nodeflow.gui.search_popup import SearchPopup

MIME_NODE_TYPE = "application/x-nodeflow-node-type"
MIN_ZOOM, MAX_ZOOM = 0.1, 3.0
ZOOM_SETTLE_MS = 200  # a wheel zoom gesture ends this long after its last step


class NodeView(QGraphicsView):
    files_dropped = Signal(list)  # [path str]
    search_shown = Signal(object)  # the SearchPopup, for tests and the status bar

    def __init__(self, scene: NodeScene, edit_actions: EditActions, parent=None):
        super().__init__(scene, parent)
        self.node_scene = scene
        self.edit_actions = edit_actions  # owned by the window; the context menus call it
        self.gesture: WireDrag | Pan | Cut | None = None
        self.space_held = False
        self.last_wire: WireResult | None = None
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.minimap = Minimap(self, scene)
        self.title_editor = GroupTitleEditor(self, scene.edits)  # Ctrl+G and a title's double-click
        scene.rename_group_requested.connect(self.title_editor.edit)
        self.zoom_settle = QTimer(self)  # running while a wheel zoom gesture is in progress
        self.zoom_settle.setSingleShot(True)
        self.zoom_settle.setInterval(ZOOM_SETTLE_MS)
        self.zoom_settle.timeout.connect(self.end_zoom_gesture)
        self.centerOn(0, 0)

    @property
    def document(self):
        return self.node_scene.document

    def pointer_scene_pos(self) -> QPointF:
        """The mouse in scene coordinates, or the view's centre when the mouse is elsewhere."""
        point = self.mapFromGlobal(self.cursor().pos())
        if not self.viewport().rect().contains(point):
            point = self.viewport().rect().center()
        return self.mapToScene(point)

    # -- zoom and pan --------------------------------------------------------------------------

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the scene point under `anchor` (view coordinates) where it is."""
        current = self.zoom()
        factor = max(MIN_ZOOM / current, min(MAX_ZOOM / current, factor))
        if abs(factor - 1.0) < 1e-9:
            return
        anchor = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        before = self.mapToScene(anchor.toPoint())
        self.scale(factor, factor)
        after = self.mapToScene(anchor.toPoint())
        self.translate_scene(after - before)

    def set_zoom(self, zoom: float) -> None:
        self.zoom_by(zoom / self.zoom())

    def translate_scene(self, delta: QPointF) -> None:
        """Shift the view so that scene content moves by `delta` scene units on screen."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        z = self.zoom()
        h.setValue(h.value() - round(delta.x() * z))
        v.setValue(v.value() - round(delta.y() * z))

    def fit_rect(self, rect: QRectF, overview: bool = False) -> None:
        """Show `rect` whole if that keeps node text readable (`overview`: titles only); otherwise
        zoom out only that far and show its top-left part (where a graph's sources are)."""
        if rect.isNull() or rect.isEmpty():
            return
        rect = rect.adjusted(-40, -40, 40, 40)
        view = self.viewport().rect()
        zoom = max(MIN_ZOOM, frame_zoom(rect, QSizeF(view.size()), node_paint.font("normal"), 1.5, overview))
        self.resetTransform()
        self.scale(zoom, zoom)
        self.centerOn(frame_centre(rect, QSizeF(view.width() / zoom, view.height() / zoom)))

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def fit_all(self, overview: bool = False) -> None:
        """Frame the graph (opening a file: at a zoom that keeps labels readable; Frame All,
        `overview`: all of it while titles stay readable)."""
        rect = QRectF()
        for item in list(self.node_scene.nodes.values()) + list(self.node_scene.groups.values()):
            rect = rect.united(item.sceneBoundingRect())
        self.fit_rect(rect, overview)

    def fit_selection(self) -> None:
        rect = QRectF()
        for item in self.node_scene.selectedItems():
            rect = rect.united(item.sceneBoundingRect())
        if rect.isNull():
            self.fit_all()
        else:
            self.fit_rect(rect)

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        self.begin_zoom_gesture()
        self.zoom_by(math.pow(1.0015, delta), event.position())

    def begin_zoom_gesture(self) -> None:
        """While the wheel turns, every frame is a new scale: paint nodes straight to the screen
        (no cache pixmaps to rebuild and throw away) and wires without antialiasing. Both come
        back, and the view is painted once more, when the wheel has been still for a moment."""
        if not self.zoom_settle.isActive():
            self.node_scene.suspend_item_cache(True)
            self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.zoom_settle.start()

    def end_zoom_gesture(self) -> None:
        self.zoom_settle.stop()
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.node_scene.suspend_item_cache(False)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        draw_grid(painter, rect, self.node_scene.grid, self.zoom())

    # -- mouse ---------------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        pos = self.mapToScene(event.position().toPoint())
        button, mods = event.button(), event.modifiers()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self.space_held):
            self.gesture = Pan(event.position())
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if button == Qt.MouseButton.RightButton and mods & Qt.KeyboardModifier.ControlModifier:
            self.gesture = Cut(self.node_scene, pos)
            return
        if button == Qt.MouseButton.LeftButton:
            ref = self._socket_at(pos)
            if ref is not None:
                self.gesture = WireDrag.begin(self.node_scene, ref)
                return
            if isinstance(self.itemAt(event.position().toPoint()), (LinkItem, type(None))):
                link = link_near(self.node_scene, pos, 6.0 / self.zoom())
                if link is not None and mods & Qt.KeyboardModifier.AltModifier:
                    self.add_reroute(link, pos)
                    return
                self.node_scene.select_link((link.dst, link.dst_input) if link else None)
                if link is not None:
                    return
        self.node_scene.select_link(None)
        super().mousePressEvent(event)

    def _socket_at(self, pos: QPointF):
        for item in self.node_scene.nodes.values():
            if item.sceneBoundingRect().contains(pos):
                ref = item.socket_at(item.mapFromScene(pos))
                if ref is not None and (ref.is_output or ref.name in item.layout.inputs):
                    return ref
        return None

    def mouseMoveEvent(self, event) -> None:
        gesture = self.gesture
        if isinstance(gesture, Pan):
            delta = event.position() - gesture.last
            gesture.last = event.position()
            z = self.zoom()
            self.translate_scene(QPointF(delta.x() / z, delta.y() / z))
            return
        pos = self.mapToScene(event.position().toPoint())
        if isinstance(gesture, Cut):
            gesture.add(pos)
            return
        if isinstance(gesture, WireDrag):
            gesture.move(pos)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        gesture, self.gesture = self.gesture, None
        pos = self.mapToScene(event.position().toPoint())
        if isinstance(gesture, Pan):
            self.viewport().unsetCursor()
            return
        if isinstance(gesture, Cut):
            gesture.add(pos)
            self.node_scene.removeItem(gesture.item)
            self._cut(gesture.points)
            return
        if isinstance(gesture, WireDrag):
            result = gesture.finish(pos)
            self.last_wire = result
            if result.outcome == "refused" and result.message:
                self.node_scene.show_message(f"Link refused: {result.message}")
            elif result.outcome == "empty":
                self.open_search(pos, result)
            return
        super().mouseReleaseEvent(event)

    def _cut(self, points: list[QPointF]) -> None:
        links = links_crossing(self.node_scene, points)
        if not links:
            return
        self.document.cut_links(links)

    def mouseDoubleClickEvent(self, event) -> None:
        pos = self.mapToScene(event.position().toPoint())
        if isinstance(self.itemAt(event.position().toPoint()), (LinkItem, type(None))):
            link = link_near(self.node_scene, pos, 6.0 / self.zoom())
            if link is not None:
                self.add_reroute(link, pos)
            else:
                self.open_search(pos)
            return
        super().mouseDoubleClickEvent(event)

    def add_reroute(self, link: Link, pos: QPointF) -> str | None:
        """Put a reroute dot centred on `pos` into `link` (double-click or Alt+click on a wire)."""
        half = DOT_D / 2
        node_id = self.document.insert_reroute(link, (pos.x() - half, pos.y() - half))
        if node_id is None:
            self.node_scene.show_message("No reroute node type is installed")
            return None
        self.node_scene.select_link(None)
        self.node_scene.select_nodes([node_id])
        return node_id

    def contextMenuEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return  # the cut gesture
        show_context_menu(self, self.node_scene, self.edit_actions, event, self.open_search, self.fit_all)

    # -- keyboard ------------------------------------------------------------------------------

    def _typing(self) -> bool:
        """Whether an inline editor on the canvas has the keyboard."""
        return self.node_scene.focusItem() is not None

    def event(self, event) -> bool:
        if event.type() == event.Type.ShortcutOverride and self._typing():
            event.accept()  # keys go to the inline editor, not to Delete / F / . shortcuts
            return True
        if event.type() == event.Type.KeyPress and event.key() == Qt.Key.Key_Tab and not self._typing():
            self.open_search(self.mapToScene(self.mapFromGlobal(self.cursor().pos())))
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat() and not self._typing():
            self.space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Escape and isinstance(self.gesture, WireDrag):
            self.gesture.cancel()
            self.gesture = None
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_held = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    # -- search popup --------------------------------------------------------------------------

    def open_search(self, scene_pos: QPointF, wire: WireResult | None = None) -> SearchPopup:
        registry = self.document.registry
        candidates, likely = None, None
        if wire is not None and wire.start is not None:
            candidates = wire_rules.node_types_fitting(registry, wire.type_name, wire.start.is_output)
            likely = wire_habits.likely_for(self.document.graph, wire.start, wire.type_name)
        popup = SearchPopup(registry, candidates, self, likely=likely)
        popup.chosen.connect(lambda type_id: self.add_from_search(type_id, scene_pos, wire))
        popup.popup_at(self.mapToGlobal(self.mapFromScene(scene_pos)))
        self.search_shown.emit(popup)
        return popup

    def add_from_search(self, type_id: str, scene_pos: QPointF, wire: WireResult | None = None) -> str:
        dragged = (wire.start, wire.type_name) if wire is not None and wire.start is not None else None
        node_id = self.document.add_placed(type_id, (scene_pos.x(), scene_pos.y()),
                                           lambda new: land_visible(self, new), dragged)
        self.node_scene.select_nodes([node_id])
        return node_id

    # -- drag and drop -------------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME_NODE_TYPE) or event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME_NODE_TYPE) or event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        pos = self.mapToScene(event.position().toPoint())
        if mime.hasFormat(MIME_NODE_TYPE):
            type_id = json.loads(bytes(mime.data(MIME_NODE_TYPE)).decode())["type"]
            node_id = self.document.add_placed(type_id, (pos.x(), pos.y()), lambda new: land_visible(self, new))
            self.node_scene.select_nodes([node_id])
            event.acceptProposedAction()
        elif mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            self.files_dropped.emit(paths)
            event.acceptProposedAction()
        else:
            super().dropEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.minimap.place()


def node_type_mime(type_id: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(MIME_NODE_TYPE, json.dumps({"type": type_id}).encode())
    mime.setText(type_id)
    return mime
