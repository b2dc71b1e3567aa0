"""Multi-step edits are Document operations, one undo step each, whichever view asks for them."""

from __future__ import annotations

import pytest

from nodeflow.core.graph import Link
from nodeflow.gui.document import Document
from nodeflow.gui.wire_rules import SocketRef


@pytest.fixture
def doc(qapp, registry) -> Document:
    return Document(registry)


def test_add_placed_lands_and_wires_a_dragged_wire_in_one_step(doc):
    src = doc.add_node("basic.int", (0, 0))
    landed = []

    def land(new: str) -> None:  # what the canvas's placement rule does: slide it off others
        landed.append(new)
        doc.move({new: ([300, 0], [320, 40])})

    node = doc.add_placed("basic.round", (300, 0), land, (SocketRef(src, "value", True), "INT"))
    assert landed == [node] and doc.graph.nodes[node].ui["pos"] == [320, 40]
    assert doc.graph.link_into(node, "value") == Link(src, "value", node, "value")
    assert doc.undo.undoText() == "Add Round"
    doc.undo.undo()
    assert list(doc.graph.nodes) == [src] and not doc.graph.links


def test_insert_into_link_routes_the_wire_through_the_new_node_or_adds_nothing(doc):
    a, show = doc.add_node("basic.int", (0, 0)), doc.add_node("basic.show", (600, 0))
    doc.connect(a, "value", show, "value")
    link = doc.graph.link_into(show, "value")
    r = doc.insert_into_link(link, "basic.round", (300, 0))
    assert doc.graph.link_into(r, "value").src == a and doc.graph.link_into(show, "value").src == r
    doc.undo.undo()
    assert doc.graph.link_into(show, "value") == link and r not in doc.graph.nodes
    count = doc.undo.count()
    assert doc.insert_into_link(link, "basic.text", (300, 0)) is None  # no INT input: nothing added
    assert doc.undo.count() == count and len(doc.graph.nodes) == 2


def test_move_link_and_cut_links_are_one_step_and_a_refused_move_changes_nothing(doc):
    a = doc.add_node("basic.int", (0, 0))
    r1, r2 = doc.add_node("basic.round", (300, 0)), doc.add_node("basic.round", (300, 200))
    doc.connect(a, "value", r1, "value")
    old = doc.graph.link_into(r1, "value")
    assert doc.move_link(old, a, "value", r2, "value") is None
    assert doc.graph.link_into(r1, "value") is None and doc.graph.link_into(r2, "value").src == a
    assert doc.undo.undoText() == "Move link"
    moved = doc.graph.link_into(r2, "value")
    count = doc.undo.count()
    assert doc.move_link(moved, r2, "value", r2, "value")  # a wire into its own node: refused
    assert doc.graph.link_into(r2, "value") == moved and doc.undo.count() == count
    doc.connect(a, "value", r1, "value")
    doc.cut_links(list(doc.graph.links.values()))
    assert not doc.graph.links and doc.undo.undoText() == "Cut links"
    doc.undo.undo()
    assert len(doc.graph.links) == 2
