"""The toolbar never moves under the pointer, undo labels say what happened to which node, and
node ids show on the canvas on request."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QToolBar

from .helpers import vp


def _toolbar_button_x(window, text: str) -> int:
    bar = window.findChild(QToolBar, "toolbar-main")
    (action,) = [a for a in bar.actions() if a.text().replace("&", "") == text]
    return bar.widgetForAction(action).mapTo(window, bar.widgetForAction(action).rect().topLeft()).x()


def test_run_stays_put_while_the_undo_text_changes(qtbot, window):
    doc = window.document
    before = _toolbar_button_x(window, "Run")
    node = doc.add_node("test.slow", (0, 0))
    doc.rename(node, "A node with a really very long title that makes the undo text long")
    qtbot.wait(10)
    assert _toolbar_button_x(window, "Run") == before
    bar = window.findChild(QToolBar, "toolbar-main")
    undo = next(a for a in bar.actions() if a.text() == "Undo")
    assert undo.isEnabled() and undo.toolTip() == f"Undo Rename Slow Count (node {node})"
    undo.trigger()
    assert "title" not in doc.graph.nodes[node].ui


def test_ctrl_m_on_a_selected_node_reads_mute_and_its_name(qtbot, window):
    doc = window.document
    node = doc.add_node("test.slow", (0, 0))
    window.view.centerOn(window.scene.nodes[node])
    item = window.scene.nodes[node]
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=vp(window.view, item.sceneBoundingRect().topLeft() + QPointF(40, 10)))
    qtbot.keyClick(window.view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert doc.graph.nodes[node].mode == "muted"
    assert doc.undo.undoText() == f"Mute Slow Count (node {node})"
    qtbot.keyClick(window.view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert doc.undo.undoText() == f"Unmute Slow Count (node {node})"


def test_node_ids_show_on_the_canvas_on_request(qtbot, window):
    doc = window.document
    node = doc.add_node("test.slow", (0, 0))
    window.view.centerOn(window.scene.nodes[node])
    rect = window.view.mapFromScene(window.scene.nodes[node].sceneBoundingRect()).boundingRect()
    plain = window.view.viewport().grab(rect).toImage()
    qtbot.keyClick(window.view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert window.scene.show_ids and window.actions_["node_ids"].isChecked()
    with_ids = window.view.viewport().grab(rect).toImage()
    assert with_ids != plain
    window.actions_["node_ids"].trigger()
    assert not window.scene.show_ids
    assert window.view.viewport().grab(rect).toImage() == plain
