"""Subgraphs in the editor: convert a selection, open a definition in place and come back by the
breadcrumb, edit sockets and promote a widget, detach, the library; every step undoes."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QInputDialog

from nodeflow.core.graph import Graph
from nodeflow.core.subgraphs.expand import expand

from .helpers import vp


def chain(window) -> tuple[str, str, str]:
    """Int(3) -> Math, and an output node beside them."""
    doc = window.document
    a = doc.add_node("basic.int", (0, 0), {"value": 3})
    b = doc.add_node("basic.math", (260, 0))
    sink = doc.add_node("test.take_image", (560, 0))
    doc.connect(a, "value", b, "a")
    return a, b, sink


def convert(window, qtbot, monkeypatch, ids: list[str], name: str = "Adder") -> str:
    window.scene.select_nodes(ids)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (name, True))
    window.actions_["convert_subgraph"].trigger()
    instance = [i for i, r in window.document.graph.nodes.items() if r.type.startswith("subgraph/")]
    assert len(instance) == 1
    return instance[0]


def test_convert_selection_then_undo_and_redo(window, qtbot, monkeypatch):
    a, b, _ = chain(window)
    window.document.set_param(b, "b", 5.0)
    graph = window.document.graph
    inst = convert(window, qtbot, monkeypatch, [b])
    definition = graph.subgraphs["adder"]
    assert b not in graph.nodes and inst in window.scene.nodes
    assert [s.name for s in definition.inputs] == ["a"] and graph.link_into(inst, "a").src == a
    assert [w.param for w in definition.widgets] == ["b"] and graph.node_class(inst).input("b").default == 5.0
    window.document.undo.undo()
    assert b in graph.nodes and inst not in graph.nodes and not graph.subgraphs
    assert graph.link_into(b, "a").src == a and b in window.scene.nodes
    window.document.undo.redo()
    assert inst in graph.nodes and "adder" in graph.subgraphs and graph.link_into(inst, "a").src == a


def test_double_click_opens_the_definition_in_place_and_the_breadcrumb_leads_back(window, qtbot, monkeypatch):
    a, b, _ = chain(window)
    inst = convert(window, qtbot, monkeypatch, [b])
    workflow = window.document.graph
    item = window.scene.nodes[inst]
    body = item.mapToScene(QPointF(item.boundingRect().center().x(), item.boundingRect().bottom() - 6))
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(window.view, body))
    shown = window.document.graph
    assert shown is not workflow and window.subgraphs.trail == ["adder"]
    assert set(window.scene.nodes) == {"@in", "@out", b} and window.subgraph_breadcrumb.isVisible()
    assert window.document.set_param(b, "b", 9.0) is None  # an edit inside reaches the workflow's definition
    assert workflow.subgraphs["adder"].nodes[b].params["b"] == 9.0
    window.subgraph_breadcrumb.buttons()[0].click()
    assert window.document.graph is workflow and inst in window.scene.nodes
    assert not window.subgraph_breadcrumb.isVisible()
    window.document.undo.undo()  # the inner edit undoes from the workflow too
    assert workflow.subgraphs["adder"].nodes[b].params["b"] == 0.0


def test_socket_edits_and_promotion_version_the_definition_and_undo(window, qtbot, monkeypatch):
    a, b, _ = chain(window)
    inst = convert(window, qtbot, monkeypatch, [b])
    edits = window.subgraphs
    workflow = window.document.workflow
    assert edits.open(inst) is None
    assert edits.rename_socket("input", "a", "first") is None
    assert workflow.subgraphs["adder"].version == 2 and workflow.link_into(inst, "first").src == a
    assert window.document.graph.link_into(b, "a").src == "@in"
    assert [o.name for o in window.document.graph.node_class("@in").outputs] == ["first"]
    assert edits.promote(b, "operation") is None
    assert [w.name for w in workflow.subgraphs["adder"].widgets] == ["operation"]
    panel_rows = [window.subgraph_panel.sockets.item(i).text() for i in range(window.subgraph_panel.sockets.count())]
    assert any(r.startswith("in  first") for r in panel_rows) and any("widget operation" in r for r in panel_rows)
    window.document.undo.undo()
    window.document.undo.undo()
    assert workflow.subgraphs["adder"].version == 1 and workflow.link_into(inst, "a").src == a
    assert [o.name for o in window.document.graph.node_class("@in").outputs] == ["a"]
    assert "@in" in window.scene.nodes and window.document.graph.link_into(b, "a").src == "@in"


def test_detach_and_the_library_reuse_a_definition(window, qtbot, monkeypatch, tmp_path):
    a, b, sink = chain(window)
    inst = convert(window, qtbot, monkeypatch, [b])
    edits = window.subgraphs
    workflow = window.document.workflow
    path = edits.save_to_library("adder", tmp_path / "lib")
    second, lost = edits.use_file(path, (100.0, 300.0))
    assert lost == [] and workflow.nodes[second].type == "subgraph/adder"
    assert edits.detach(second) is None
    assert workflow.nodes[second].type != "subgraph/adder" and len(workflow.subgraphs) == 2
    window.document.undo.undo()
    assert workflow.nodes[second].type == "subgraph/adder" and len(workflow.subgraphs) == 1
    flat, problems = expand(workflow)
    assert problems == [] and f"{inst}:{b}" in flat.nodes


@pytest.mark.parametrize("name", ["", "   "])
def test_convert_needs_a_name(window, qtbot, monkeypatch, name):
    _, b, _ = chain(window)
    window.scene.select_nodes([b])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (name, True))
    window.actions_["convert_subgraph"].trigger()
    assert b in window.document.graph.nodes and not window.document.graph.subgraphs


def test_run_events_of_inner_nodes_show_on_their_instance(window, qtbot, monkeypatch):
    from nodeflow.engine import events as ev
    from nodeflow.gui import run_states

    _, b, _ = chain(window)
    inst = convert(window, qtbot, monkeypatch, [b])
    run_states.apply(window.scene, ev.NodeFailed(f"{inst}:{b}", "broke"))
    run_states.apply(window.scene, ev.NodeSkipped(f"{inst}:9", "node failed"))
    assert window.scene.nodes[inst].run.state == "failed" and window.scene.nodes[inst].run.message == "broke"


def test_a_copied_instance_pastes_into_another_workflow_with_its_definition(window, qtbot, monkeypatch):
    from nodeflow.gui import clipboard

    _, b, _ = chain(window)
    inst = convert(window, qtbot, monkeypatch, [b])
    text = clipboard.copy_text(window.document.graph, [inst])
    window.document.new()
    ids = window.document.paste_text(text, (0.0, 0.0))
    graph = window.document.graph
    assert [graph.nodes[i].type for i in ids] == ["subgraph/adder"] and "adder" in graph.subgraphs
    assert graph.node_class(ids[0]) is not None


def test_a_library_file_dropped_on_the_canvas_becomes_an_instance_there(window, qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint
    from PySide6.QtGui import QDropEvent

    from nodeflow.gui.subgraph_ui import MIME_SUBGRAPH_FILE

    _, b, _ = chain(window)
    convert(window, qtbot, monkeypatch, [b])
    path = window.subgraphs.save_to_library("adder", tmp_path / "lib")
    window.document.new()
    mime = QMimeData()
    mime.setData(MIME_SUBGRAPH_FILE, str(path).encode())
    event = QDropEvent(QPoint(200, 150).toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    # Qt delivers a drop only during a real drag: the window's canvas hook gets the event directly.
    assert window.subgraph_canvas_hooks.eventFilter(window.view.viewport(), event)
    graph = window.document.graph
    placed = [r for r in graph.nodes.values() if r.type == "subgraph/adder"]
    assert len(placed) == 1 and "adder" in graph.subgraphs
    drop = window.view.mapToScene(QPoint(200, 150))
    assert placed[0].ui["pos"] == [round(drop.x()), round(drop.y())]
    window.document.undo.undo()
    assert not graph.nodes and not graph.subgraphs


def test_the_panel_buttons_promote_a_widget_and_rename_a_socket(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QPushButton

    a, b, _ = chain(window)
    inst = convert(window, qtbot, monkeypatch, [b])
    assert window.subgraphs.open(inst) is None
    panel = window.subgraph_panel
    buttons = {button.text(): button for button in panel.findChildren(QPushButton)}
    window.scene.select_nodes([b])
    monkeypatch.setattr(QInputDialog, "getItem", lambda *args, **kwargs: ("operation", True))
    qtbot.mouseClick(buttons["Promote…"], Qt.MouseButton.LeftButton)
    definition = window.document.workflow.subgraphs["adder"]
    assert [(w.name, w.node, w.param) for w in definition.widgets] == [("operation", b, "operation")]
    panel.sockets.setCurrentRow(0)
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("number", True))
    qtbot.mouseClick(buttons["Rename…"], Qt.MouseButton.LeftButton)
    workflow = window.document.workflow
    definition = workflow.subgraphs["adder"]
    assert [s.name for s in definition.inputs] == ["number"] and definition.version == 3
    assert workflow.link_into(inst, "number").src == a
    window.document.undo.undo()
    window.document.undo.undo()
    assert [s.name for s in workflow.subgraphs["adder"].inputs] == ["a"] and not workflow.subgraphs["adder"].widgets


def test_inner_events_never_land_on_a_plain_node_that_shares_the_instance_id(window):
    from nodeflow.engine import events as ev
    from nodeflow.gui import run_states

    a, _, _ = chain(window)
    run_states.apply(window.scene, ev.NodeFailed(f"{a}:3", "broke"))
    assert window.scene.nodes[a].run.state != "failed"


def test_update_instances_from_an_edited_library_file(window, qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QPushButton

    from nodeflow.core.subgraphs.files import save_subgraph

    monkeypatch.setenv("NODEFLOW_HOME", str(tmp_path / "home"))
    _, b, _ = chain(window)
    inst = convert(window, qtbot, monkeypatch, [b])
    path = window.subgraphs.save_to_library("adder")
    workflow = window.document.workflow
    edited = Graph(window.registry)
    edited.subgraphs["adder"] = copy.deepcopy(workflow.subgraphs["adder"])
    edited.subgraphs["adder"].nodes[b].params["operation"] = "multiply"
    save_subgraph(edited, "adder", path)  # the file edited elsewhere
    panel = window.subgraph_panel
    panel.refresh_library()
    panel.library.setCurrentRow(0)
    buttons = {button.text(): button for button in panel.findChildren(QPushButton)}
    qtbot.mouseClick(buttons["Update instances"], Qt.MouseButton.LeftButton)
    assert expand(workflow)[0].nodes[f"{inst}:{b}"].params["operation"] == "multiply"
    window.document.undo.undo()
    assert expand(workflow)[0].nodes[f"{inst}:{b}"].params["operation"] == "add"
