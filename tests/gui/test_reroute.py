"""Reroute dots: put on a wire with the mouse, drawn as a dot in the colour of what they carry,
and wired by that type rather than their declared ANY."""

from PySide6.QtCore import QPointF, Qt

from nodeflow.core import workflow
from nodeflow.gui.canvas import node_paint

from .helpers import drag, socket, vp, wire


def wire_middle(window, dst: str, inp: str) -> QPointF:
    return window.scene.links[(dst, inp)].path().pointAtPercent(0.5)


def reroutes(graph) -> list[str]:
    return [i for i, r in graph.nodes.items() if r.type == "basic.reroute"]


def test_double_click_on_a_wire_inserts_a_reroute_in_one_step(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0), {"value": 3})
    s = doc.add_node("basic.show", (400, 120))
    doc.connect(a, "value", s, "value")
    before = doc.text()
    window.view.set_zoom(1.0)
    window.view.centerOn(300, 100)
    middle = wire_middle(window, s, "value")
    steps = doc.undo.count()
    shown = []
    window.view.search_shown.connect(shown.append)
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(window.view, middle))
    [r] = reroutes(doc.graph)
    assert doc.graph.link_into(r, "value").src == a
    assert doc.graph.link_into(s, "value").src == r
    assert doc.undo.count() == steps + 1
    assert shown == []  # on a wire, a double-click does not open the node search
    item = window.scene.nodes[r]
    assert item.layout.dot and item.layout.width == item.layout.height  # a dot, no title or body
    centre = item.mapToScene(item.body_rect().center())
    assert abs(centre.x() - middle.x()) <= 1 and abs(centre.y() - middle.y()) <= 1
    assert item.carried_type == "INT"  # coloured by what it carries, not by its ANY
    assert window.scene.links[(s, "value")].type_name == "INT"
    assert window.scene.selected_node_ids() == [r]
    doc.undo.undo()
    assert doc.text() == before and r not in window.scene.nodes
    doc.undo.redo()
    assert doc.graph.link_into(s, "value").src == r


def test_alt_click_inserts_a_reroute_and_its_middle_moves_it(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    s = doc.add_node("basic.show", (400, 120))
    s2 = doc.add_node("basic.show", (400, 320))
    doc.connect(a, "value", s, "value")
    window.view.set_zoom(1.0)
    window.view.centerOn(300, 150)
    middle = wire_middle(window, s, "value")
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier,
                     vp(window.view, middle))
    [r] = reroutes(doc.graph)
    item = window.scene.nodes[r]
    start = item.pos()
    centre = item.mapToScene(item.body_rect().center())
    drag(qtbot, window.view, centre, centre + QPointF(0, 60))  # the middle moves the dot...
    assert item.pos() == start + QPointF(0, 60)
    assert doc.graph.nodes[r].ui["pos"] == [round(start.x()), round(start.y() + 60)]
    assert doc.graph.link_into(s, "value").src == r  # ...and starts no wire
    wire(qtbot, window, r, "value", s2, "value")  # the rim sockets wire
    assert doc.graph.link_into(s2, "value").src == r


def test_wires_from_a_reroute_are_checked_by_the_type_it_carries(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    r = doc.add_node("basic.reroute", (250, 40))
    take = doc.add_node("test.take_image", (450, -100))
    rnd = doc.add_node("basic.round", (450, 150))
    doc.connect(a, "value", r, "value")
    window.view.set_zoom(1.0)
    window.view.centerOn(300, 50)
    viewport = window.view.viewport()
    start = vp(window.view, socket(window, r, "value", True))
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, vp(window.view, QPointF(400, 60)))
    assert node_paint._dimmed(window.scene.nodes[take], "image", False)  # IMAGE does not take INT
    assert not node_paint._dimmed(window.scene.nodes[rnd], "value", False)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=vp(window.view, socket(window, take, "image", False)))
    assert doc.graph.link_into(take, "image") is None
    assert window.view.last_wire.outcome == "refused" and "gives INT" in window.view.last_wire.message
    wire(qtbot, window, r, "value", rnd, "value")
    assert doc.graph.link_into(rnd, "value").src == r
    doc.disconnect(r, "value")  # nothing reaches the dot: it and its wires go back to ANY
    assert window.scene.nodes[r].carried_type == "*"
    assert window.scene.links[(rnd, "value")].type_name == "*"
    doc.undo.undo()
    assert window.scene.nodes[r].carried_type == "INT"
    assert window.scene.links[(rnd, "value")].type_name == "INT"


def test_a_chain_of_reroutes_follows_its_source(qtbot, window, registry):
    doc = window.document
    a = doc.add_node("basic.text", (0, 0))
    r1 = doc.add_node("basic.reroute", (250, 0))
    r2 = doc.add_node("basic.reroute", (350, 0))
    s = doc.add_node("basic.show", (450, 0))
    doc.connect(r1, "value", r2, "value")
    doc.connect(r2, "value", s, "value")
    assert window.scene.nodes[r2].carried_type == "*"
    doc.connect(a, "text", r1, "value")
    assert [window.scene.nodes[i].carried_type for i in (r1, r2)] == ["STRING", "STRING"]
    assert window.scene.links[(s, "value")].type_name == "STRING"
    text = doc.text()  # reopened, the dots come back in the same colours
    window.files.new()
    doc.open_text(text)
    assert window.scene.links[(s, "value")].type_name == "STRING"
    assert window.scene.nodes[r2].carried_type == "STRING"
    assert workflow.dumps(doc.graph) == text
