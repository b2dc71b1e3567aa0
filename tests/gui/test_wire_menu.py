"""A wire's right-click menu deletes it, puts a reroute on it or a node into it; its tooltip
says what it carries between which nodes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from nodeflow.gui.canvas.wire_menu import describe_wire

from .helpers import vp


def _wire(window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0), {"value": 2})
    s = doc.add_node("basic.show", (500, 0))
    doc.connect(a, "value", s, "value")
    window.view.centerOn(350, 60)
    link = doc.graph.link_into(s, "value")
    middle = window.scene.links[(s, "value")].path().pointAtPercent(0.5)
    return a, s, link, middle


def _right_click_and_pick(qtbot, window, scene_point, text: str) -> None:
    def pick() -> None:
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(20, pick)
            return
        menu.setActiveAction(next(a for a in menu.actions() if a.text() == text))
        qtbot.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(20, pick)
    at = vp(window.view, scene_point)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, window.view.viewport().mapToGlobal(at))
    QApplication.sendEvent(window.view.viewport(), event)


@pytest.mark.parametrize("choice", ["Delete wire", "Insert reroute"])
def test_a_wire_menu_deletes_or_reroutes(qtbot, window, choice):
    a, s, link, middle = _wire(window)
    _right_click_and_pick(qtbot, window, middle, choice)
    graph = window.document.graph
    if choice == "Delete wire":
        assert graph.link_into(s, "value") is None
    else:
        reroute = graph.link_into(s, "value").src
        assert graph.nodes[reroute].type == "basic.reroute" and graph.link_into(reroute, "value").src == a


def test_insert_node_routes_the_wire_through_the_chosen_node(qtbot, window):
    a, s, link, middle = _wire(window)
    popups = []

    def choose() -> None:
        from nodeflow.gui.search_popup import SearchPopup

        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, SearchPopup) and w.isVisible()]
        if not found:
            QTimer.singleShot(20, choose)
            return
        popups.append(found[0])
        assert "basic.round" in found[0].type_ids() and "basic.note" not in found[0].type_ids()
        found[0].edit.setText("round")
        found[0].accept_current()

    QTimer.singleShot(40, choose)
    _right_click_and_pick(qtbot, window, middle, "Insert node…")
    qtbot.waitUntil(lambda: bool(popups), timeout=3000)
    graph = window.document.graph
    middle_node = graph.link_into(s, "value").src
    assert graph.nodes[middle_node].type == "basic.round" and graph.link_into(middle_node, "value").src == a
    assert window.document.undo.undoText() == "Insert Round into wire"


def test_a_wire_tells_its_type_and_ends(window):
    a, s, link, _ = _wire(window)
    assert describe_wire(window.document.graph, link) == f"INT: Integer (node {a}) value → Show Value (node {s}) value"


def test_hovering_a_wire_shows_its_tooltip(qtbot, window):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    a, s, link, middle = _wire(window)
    at = vp(window.view, middle)
    QApplication.sendEvent(window.view.viewport(), QHelpEvent(QEvent.Type.ToolTip, at,
                                                              window.view.viewport().mapToGlobal(at)))
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert QToolTip.text() == describe_wire(window.document.graph, link)
    QToolTip.hideText()


def test_hovering_a_socket_shows_which_sockets_fit(qtbot, window):
    from nodeflow.gui.wire_rules import SocketRef

    from .helpers import socket

    doc = window.document
    number = doc.add_node("basic.int", (0, 0))
    text = doc.add_node("basic.text", (0, 250))
    show = doc.add_node("basic.round", (400, 0))
    window.view.centerOn(300, 150)
    viewport = window.view.viewport()
    qtbot.mouseMove(viewport, vp(window.view, socket(window, number, "value", True)))
    qtbot.waitUntil(lambda: window.scene.wire_rules is not None, timeout=2000)
    rules = window.scene.wire_rules
    assert rules.start == SocketRef(number, "value", True)
    assert rules.allows(SocketRef(show, "value", False))  # an INT fits Round's value
    assert not rules.allows(SocketRef(text, "text", True))  # outputs never take an output
    qtbot.mouseMove(viewport, vp(window.view, socket(window, number, "value", True) + QPointF(-200, 300)))
    qtbot.waitUntil(lambda: window.scene.wire_rules is None, timeout=2000)
