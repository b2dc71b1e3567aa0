"""The mask editor driven by real mouse strokes on its viewport, with the resulting pixels checked."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage

from nodeflow.core.masks import decode_mask
from nodeflow.gui.mask_editor import ops
from nodeflow.gui.mask_editor.dialog import MaskEditorDialog, mask_array
from nodeflow.gui.mask_editor.view import Tool


def picture(w: int = 96, h: int = 64, alpha: bool = False) -> QImage:
    image = QImage(w, h, QImage.Format.Format_ARGB32 if alpha else QImage.Format.Format_RGB32)
    image.fill(QColor(30, 60, 200))
    return image


@pytest.fixture
def editor(qtbot):
    dialog = MaskEditorDialog(picture())
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    dialog.view.set_zoom(4.0, QPointF(48, 32))
    return dialog


def at(view, x: float, y: float) -> QPoint:
    return view.mapFromScene(QPointF(x, y))


def stroke(qtbot, view, points, button=Qt.MouseButton.LeftButton) -> None:
    viewport = view.viewport()
    qtbot.mousePress(viewport, button, pos=at(view, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(viewport, at(view, *p))
    qtbot.mouseRelease(viewport, button, pos=at(view, *points[-1]))


def test_brush_stroke_paints_along_the_drag_and_nowhere_else(qtbot, editor):
    view = editor.view
    editor.size.setValue(6)
    editor.hardness.setValue(100)
    stroke(qtbot, view, [(30, 32), (40, 32), (50, 32), (60, 32)])
    mask = view.mask
    assert mask[32, 30:61].min() == 255  # the whole path is painted
    assert mask[32, 20] == 0 and mask[32, 70] == 0  # not beyond the ends
    assert mask[22, 45] == 0 and mask[42, 45] == 0  # not beyond the brush radius
    assert mask[:, :].max() == 255 and np.count_nonzero(mask) < 6 * 40  # a thin band, not a blob


def test_soft_brush_leaves_a_gradient_edge(qtbot, editor):
    editor.size.setValue(20)
    editor.hardness.setValue(0)
    stroke(qtbot, editor.view, [(48, 32)])
    row = editor.view.mask[32, 38:59].astype(int)
    assert row[10] > 200 and 0 < row[3] < row[7] < row[10]


def test_eraser_removes_paint_and_undo_redo_step_through_strokes(qtbot, editor):
    view = editor.view
    editor.size.setValue(8)
    editor.hardness.setValue(100)
    stroke(qtbot, view, [(20, 20), (70, 20)])
    painted = view.mask.copy()
    editor.set_tool(Tool.ERASER)
    stroke(qtbot, view, [(45, 14), (45, 26)])
    assert view.mask[20, 45] == 0 and view.mask[20, 25] == 255
    editor.undo_action.trigger()
    np.testing.assert_array_equal(view.mask, painted)
    editor.undo_action.trigger()
    assert not view.mask.any()
    editor.redo_action.trigger()
    np.testing.assert_array_equal(view.mask, painted)


def test_fill_clear_and_invert(qtbot, editor):
    view = editor.view
    editor.size.setValue(4)
    editor.hardness.setValue(100)
    stroke(qtbot, view, [(20, 10), (70, 10), (70, 50), (20, 50), (20, 10)])  # a closed ring
    editor.set_tool(Tool.FILL)
    stroke(qtbot, view, [(45, 30)])
    assert view.mask[30, 45] == 255 and view.mask[30, 80] == 0 and view.mask[5, 45] == 0
    view.invert()
    assert view.mask[30, 45] == 0 and view.mask[30, 80] == 255
    view.clear()
    assert not view.mask.any()
    editor.undo_action.trigger()  # undo the clear
    assert view.mask[30, 80] == 255


def test_wheel_zooms_around_the_cursor_and_middle_drag_pans(qtbot, editor):
    view = editor.view
    view.set_zoom(2.0, QPointF(48, 32))
    anchor = at(view, 60, 40)
    from PySide6.QtGui import QWheelEvent

    wheel = QWheelEvent(QPointF(anchor), QPointF(view.viewport().mapToGlobal(anchor)), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    qtbot.wait(1)
    view.wheelEvent(wheel)
    assert view.zoom() == pytest.approx(2.5)
    under = view.mapToScene(anchor)
    assert (under.x(), under.y()) == pytest.approx((60, 40), abs=1.0)
    before = view.mapToScene(view.viewport().rect().center())
    stroke(qtbot, view, [(48, 32), (38, 32)], button=Qt.MouseButton.MiddleButton)
    after = view.mapToScene(view.viewport().rect().center())
    assert after.x() - before.x() == pytest.approx(10, abs=1.0)
    assert not view.mask.any(), "panning must not paint"


def test_ok_gives_a_stored_mask_that_reopens_identically(qtbot, editor):
    editor.size.setValue(10)
    stroke(qtbot, editor.view, [(10, 10), (80, 50)])
    stored = editor.stored_mask()
    w, h, data = decode_mask(stored)
    assert (w, h) == (96, 64)
    np.testing.assert_array_equal(np.frombuffer(data, np.uint8).reshape(h, w), editor.view.mask)
    again = MaskEditorDialog(picture(), stored)
    qtbot.addWidget(again)
    np.testing.assert_array_equal(again.view.mask, editor.view.mask)


def test_empty_mask_is_stored_as_nothing_unless_the_picture_has_alpha(qtbot):
    plain = MaskEditorDialog(picture())
    qtbot.addWidget(plain)
    assert plain.stored_mask() == ""
    transparent = picture(alpha=True)
    transparent.fill(QColor(0, 0, 0, 0))
    holed = MaskEditorDialog(transparent)
    qtbot.addWidget(holed)
    assert holed.view.mask.min() == 255  # starts from the picture's alpha (transparent = repaint)
    holed.view.clear()
    assert decode_mask(holed.stored_mask())[2] == bytes(96 * 64)


def test_stored_mask_follows_a_resized_picture():
    mask = np.zeros((32, 48), np.uint8)
    mask[:, 24:] = 255
    from nodeflow.core.masks import encode_mask

    grown = mask_array(encode_mask(48, 32, mask.tobytes()), 96, 64)
    assert grown.shape == (64, 96) and grown[10, 80] == 255 and grown[10, 10] == 0


def test_flood_fill_stops_at_painted_walls():
    mask = np.zeros((20, 20), np.uint8)
    mask[5, 5:15] = mask[14, 5:15] = 255
    mask[5:15, 5] = mask[5:15, 14] = 255
    assert ops.flood_fill(mask, 10, 10) == 8 * 8
    assert mask[6:14, 6:14].min() == 255 and mask[0:5].max() == 0
