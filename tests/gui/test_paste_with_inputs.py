"""Ctrl+V pastes the copied nodes with the links among them; Ctrl+Shift+V also wires the links
that came into them from nodes still in the graph (ComfyUI's habit); F7 validates."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from .helpers import vp


def _select_and_copy(qtbot, window, node_ids: list[str]) -> None:
    window.scene.select_nodes(node_ids)
    qtbot.keyClick(window.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)


def _paste_at(qtbot, window, point: QPointF, modifiers) -> list[str]:
    before = set(window.document.graph.nodes)
    qtbot.mouseMove(window.view.viewport(), vp(window.view, point))
    qtbot.keyClick(window.view, Qt.Key.Key_V, modifiers)
    return sorted(set(window.document.graph.nodes) - before)


def test_ctrl_v_keeps_inner_links_and_ctrl_shift_v_also_the_incoming_ones(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0), {"value": 3})
    r = doc.add_node("basic.round", (250, 0))
    s = doc.add_node("basic.show", (500, 0))
    doc.connect(a, "value", r, "value")
    doc.connect(r, "value", s, "value")
    window.view.centerOn(400, 200)
    _select_and_copy(qtbot, window, [r, s])
    plain = _paste_at(qtbot, window, QPointF(250, 300), Qt.KeyboardModifier.ControlModifier)
    pr, ps = plain
    assert doc.graph.link_into(ps, "value").src == pr  # the link among the pasted nodes
    assert doc.graph.link_into(pr, "value") is None  # Ctrl+V leaves the input open
    kept = _paste_at(qtbot, window, QPointF(250, 500),
                     Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    kr, ks = kept
    assert doc.graph.link_into(kr, "value").src == a  # Ctrl+Shift+V wires it from the original source
    assert doc.graph.link_into(ks, "value").src == kr
    assert doc.undo.undoText() == "Paste with inputs"
    doc.undo.undo()
    assert not set(kept) & set(doc.graph.nodes) and doc.graph.link_into(r, "value").src == a


def test_f7_validates(qtbot, window):
    window.document.add_node("basic.show", (0, 0))  # its value is not linked
    qtbot.keyClick(window.view, Qt.Key.Key_F7)
    assert "problem" in window.statusBar().currentMessage()


def test_a_paste_onto_nodes_lands_beside_them_in_one_step(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    b = doc.add_node("basic.round", (250, 0))
    window.view.centerOn(300, 150)
    _select_and_copy(qtbot, window, [a, b])
    pasted = _paste_at(qtbot, window, QPointF(10, 10), Qt.KeyboardModifier.ControlModifier)  # right on top
    rects = {i: window.scene.nodes[i].sceneBoundingRect() for i in (a, b, *pasted)}
    assert not any(rects[p].intersects(rects[o]) for p in pasted for o in (a, b))
    gap = rects[pasted[1]].left() - rects[pasted[0]].left()
    assert gap == rects[b].left() - rects[a].left()  # moved together, their layout kept
    assert doc.undo.undoText() == "Paste"
    doc.undo.undo()
    assert set(doc.graph.nodes) == {a, b}
