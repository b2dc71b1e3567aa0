"""Level of detail from on-screen text size, readable Frame All, and new nodes placed fully visible."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF, QSizeF
from PySide6.QtGui import QFont

from nodeflow.gui.canvas.detail import (
    MAX_TEXT_GROW,
    READABLE_PX,
    Detail,
    detail_for,
    font_px,
    frame_zoom,
    overview_zoom,
    readable_zoom,
    text_scale,
)
from nodeflow.gui.canvas.placement import place


@pytest.fixture
def body(qapp):
    font = QFont()
    font.setPixelSize(12)
    return font


def test_detail_follows_text_pixels(body):
    assert font_px(body) == 12
    assert detail_for(1.0, body) is Detail.FULL
    assert detail_for(READABLE_PX / 12 + 0.01, body) is Detail.FULL
    assert detail_for(READABLE_PX / 12 - 0.01, body) is Detail.FULL  # drawn a little larger
    assert detail_for(READABLE_PX / 12 / MAX_TEXT_GROW + 0.01, body) is Detail.FULL
    assert detail_for(READABLE_PX / 12 / MAX_TEXT_GROW - 0.01, body) is Detail.TITLES
    assert detail_for(0.2, body) is Detail.SHAPES
    bigger = QFont(body)
    bigger.setPixelSize(24)
    assert detail_for(0.4, bigger) is Detail.FULL  # bigger text stays readable further out


def test_frame_zoom_frames_all_and_stops_where_titles_stay_readable(body):
    view = QSizeF(800, 500)
    assert frame_zoom(QRectF(0, 0, 400, 250), view, body) == 1.0  # never magnified past 1
    assert frame_zoom(QRectF(0, 0, 1000, 500), view, body) == pytest.approx(0.8)
    assert frame_zoom(QRectF(0, 0, 2000, 1250), view, body) == pytest.approx(0.4)  # all of it, text grown
    assert frame_zoom(QRectF(0, 0, 3000, 1875), view, body) == pytest.approx(readable_zoom(body))  # opening
    assert frame_zoom(QRectF(0, 0, 2600, 1625), view, body, overview=True) == pytest.approx(800 / 2600)  # Frame All
    assert readable_zoom(body) > 800 / 2600 > overview_zoom(body)
    assert frame_zoom(QRectF(0, 0, 8000, 5000), view, body, overview=True) == pytest.approx(overview_zoom(body))
    assert detail_for(overview_zoom(body) + 0.001, body) is Detail.TITLES


def test_text_grows_just_enough_to_stay_readable_when_zoomed_out_a_little(body):
    assert text_scale(1.0, body) == text_scale(READABLE_PX / 12, body) == 1.0
    zoom = READABLE_PX / 12 / 1.2
    assert text_scale(zoom, body) == pytest.approx(1.2)  # on screen: READABLE_PX tall again
    assert text_scale(0.1, body) == MAX_TEXT_GROW  # never past what the rows hold


def test_new_node_lands_inside_the_view_and_off_the_minimap():
    visible = QRectF(0, 0, 1000, 600)
    minimap = QRectF(790, 460, 200, 130)
    size = QSizeF(240, 160)
    # asked for where it would stick out at the bottom right, under the minimap
    pos = place(QPointF(900, 520), size, visible, [minimap])
    node = QRectF(pos, size)
    assert visible.contains(node) and not node.intersects(minimap)
    # a free spot is kept as asked
    assert place(QPointF(100, 100), size, visible, [minimap]) == QPointF(100, 100)


def test_a_node_added_at_the_corner_lands_fully_visible_and_off_the_minimap(qtbot, window):
    view = window.view
    view.set_zoom(1.0)
    corner = view.mapToScene(view.viewport().rect().bottomRight())
    node_id = view.add_from_search("basic.format_text", corner)  # what a wire dropped in the corner does
    rect = window.scene.nodes[node_id].sceneBoundingRect()
    minimap = view.mapToScene(view.minimap.geometry().translated(-view.viewport().pos())).boundingRect()
    assert view.visible_scene_rect().contains(rect)
    assert not rect.intersects(minimap)
    window.document.undo.undo()  # adding and sliding into view are one step
    assert node_id not in window.document.graph.nodes


def test_frame_all_frames_all_and_keeps_titles_readable_on_a_huge_graph(qtbot, window):
    from nodeflow.gui.canvas import node_paint

    ids = [window.document.add_node("basic.int", (x * 400, 0)) for x in range(4)]
    window.actions_["fit_all"].trigger()  # Frame All on a graph wider than the view: all of it shows
    visible = window.view.visible_scene_rect()
    assert all(visible.contains(window.scene.nodes[i].sceneBoundingRect()) for i in ids)
    ids += [window.document.add_node("basic.int", (x * 400, 0)) for x in range(4, 40)]
    window.actions_["fit_all"].trigger()  # far too wide: titles stay readable, the sources show on the left
    assert detail_for(window.view.zoom(), node_paint.font("normal")) >= Detail.TITLES
    visible = window.view.visible_scene_rect()
    assert visible.intersects(window.scene.nodes[ids[0]].sceneBoundingRect())


def test_labels_and_widgets_stay_drawn_down_to_half_zoom_by_the_wheel(qtbot, window):
    """Issue 21: one wheel notch (83%) used to leave empty boxes; labels must hold to 50%."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    from nodeflow.gui.canvas import node_paint

    window.document.add_node("test.take_image", (0, 0))
    window.view.set_zoom(1.0)
    centre = QPointF(window.view.viewport().rect().center())
    for _ in range(3):  # three notches out
        event = QWheelEvent(centre, window.view.viewport().mapToGlobal(centre), QPoint(0, 0), QPoint(0, -120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                            False)
        QApplication.sendEvent(window.view.viewport(), event)
    assert 0.5 <= window.view.zoom() < 0.7
    assert detail_for(window.view.zoom(), node_paint.font("normal")) is Detail.FULL
    assert detail_for(0.5, node_paint.font("normal")) is Detail.FULL
    assert font_px(node_paint.font("normal")) >= 9  # widget text at 100%


def test_the_minimap_moves_off_the_nodes_under_it(qtbot, window):
    view = window.view
    view.set_zoom(1.0)
    minimap = view.minimap
    assert minimap.isVisible()
    corner = view.mapToScene(minimap.geometry().center() - view.viewport().pos())
    node = window.document.add_node("test.take_image", (corner.x() - 60, corner.y() - 40))
    item = window.scene.nodes[node]
    if not minimap.geometry().translated(-view.viewport().pos()).intersects(
            view.mapFromScene(item.sceneBoundingRect()).boundingRect()):  # placement slid it off already
        window.document.move({node: (item.record.ui["pos"], [round(corner.x() - 60), round(corner.y() - 40)])})

    def clear() -> bool:
        box = minimap.geometry().translated(-view.viewport().pos())
        return not box.intersects(view.mapFromScene(item.sceneBoundingRect()).boundingRect())

    qtbot.waitUntil(clear, timeout=3000)
    assert view.viewport().rect().contains(minimap.geometry().translated(-view.viewport().pos()))
