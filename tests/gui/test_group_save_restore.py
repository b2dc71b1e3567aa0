"""Grouping then saving never crashes, wrong-typed values never reach the canvas, and a crash
autosave is deleted only when it was restored or the user discarded it."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from nodeflow.core import workflow
from nodeflow.gui.main_window import MainWindow

from .helpers import vp


def _click(qtbot, window, scene_point: QPointF) -> None:
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(window.view, scene_point))


def test_ctrl_g_then_ctrl_s_on_a_note_saves_a_titled_group(qtbot, window, tmp_path):
    """The reported crash: a Note, selected, Ctrl+G, Ctrl+S. The frame's title was `False`
    (QAction's `checked` reached `group_selection(title)`) and drawText segfaulted."""
    window.files.new_empty()
    note = window.document.add_node("basic.note", (0, 0))
    window.view.fit_all()
    item = window.scene.nodes[note]
    _click(qtbot, window, item.sceneBoundingRect().topLeft() + QPointF(40, 12))
    assert window.scene.selected_node_ids() == [note]
    qtbot.keyClick(window.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    (group,) = window.document.graph.groups.values()
    assert group.title == "Group"
    window.view.viewport().grab()  # paints the frame's title
    editor = window.view.title_editor  # Ctrl+G asks for the title on the frame itself
    assert editor.isVisible() and editor.selectedText() == "Group"
    qtbot.keyClicks(editor, "Notes")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert group.title == "Notes" and not editor.isVisible()
    target = tmp_path / "grouped.json"
    window.files.ask_save_path = lambda: str(target)
    qtbot.keyClick(window.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = json.loads(target.read_text())
    assert saved["groups"][0]["title"] == "Notes"
    assert not window.document.dirty


def _two_numbers_selected(qtbot, window) -> list[str]:
    doc = window.document
    ids = [doc.add_node("basic.int", (0, 0)), doc.add_node("basic.int", (260, 0))]
    window.view.fit_all()
    window.scene.select_nodes(ids)
    return ids


def test_ctrl_g_names_the_frame_as_typed_in_one_undo_step(qtbot, window):
    doc = window.document
    _two_numbers_selected(qtbot, window)
    before = doc.undo.count()
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    editor = window.view.title_editor
    (group_id,) = doc.graph.groups
    bar = window.view.mapFromScene(QPointF(*doc.graph.groups[group_id].rect[:2]))
    assert editor.geometry().contains(bar + QPoint(20, 10))  # over the frame's title bar
    qtbot.keyClicks(editor, "Sampling")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert doc.graph.groups[group_id].title == "Sampling"
    assert doc.undo.count() == before + 1 and doc.undo.undoText() == "Add group 'Sampling'"
    doc.undo.undo()
    assert doc.graph.groups == {}
    doc.undo.redo()
    assert doc.graph.groups[group_id].title == "Sampling"


def test_escape_keeps_the_default_title_and_a_double_clicked_title_renames(qtbot, window):
    doc = window.document
    _two_numbers_selected(qtbot, window)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    editor = window.view.title_editor
    qtbot.keyClicks(editor, "Thrown away")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    (group,) = doc.graph.groups.values()
    assert group.title == "Group" and not editor.isVisible()
    doc.set_param(next(iter(doc.graph.nodes)), "value", 3)  # another step: a rename is its own now
    title = QPointF(group.rect[0] + 40, group.rect[1] + 12)
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(window.view, title))
    assert editor.isVisible() and editor.text() == "Group"
    editor.setText("Inputs")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert group.title == "Inputs" and doc.undo.undoText() == "Rename group 'Group'"
    doc.undo.undo()
    assert group.title == "Group" and len(doc.graph.groups) == 1


def test_a_wrong_typed_group_or_node_title_is_refused_before_the_canvas(window):
    doc = window.document
    group = doc.add_group("Frame", [0, 0, 300, 200])
    assert "title" in doc.set_group(group, title=False)
    assert "rect" in doc.set_group(group, rect=[0, 0, float("nan"), 1])
    node = doc.add_node("basic.note", (0, 0))
    assert "title" in doc.set_ui(node, "Rename", title=5)
    assert doc.graph.groups[group].title == "Frame" and "title" not in doc.graph.nodes[node].ui
    assert doc.undo.count() == 2  # the refused edits pushed nothing
    window.view.viewport().grab()


def _leftover(window, text: str, name: str = "autosave-999999999-0.json"):
    """An autosave left by a window process that is gone (a crash)."""
    folder = window.files.autosave.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"saved_at": 0, "source": None, "workflow": text}))
    return path


def _errors(window) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    window.files.failed.disconnect()
    window.files.failed.connect(lambda title, text: seen.append((title, text)))
    return seen


def _work_with_a_broken_group(registry) -> str:
    from nodeflow.core import Graph

    graph = Graph(registry)
    graph.add_node("basic.int", {"value": 7}, {"pos": [0, 0]}, node_id="1")
    graph.add_node("basic.show", None, {"pos": [300, 0]}, node_id="2")
    graph.connect("1", "value", "2", "value")
    graph.add_group("Kept", [0, -40, 500, 200], group_id="3")
    data = workflow.to_data(graph)
    data["groups"].append({"id": "4", "title": False, "rect": [0, 0, 10, 10]})  # what the bug wrote
    return json.dumps(data)


def test_a_partly_broken_autosave_restores_what_it_can_and_is_kept(qtbot, window, registry):
    path = _leftover(window, _work_with_a_broken_group(registry))
    errors = _errors(window)
    window.files.ask_restore = lambda source: "restore"
    assert window.files.offer_restore()
    graph = window.document.graph
    assert graph.nodes["1"].params["value"] == 7 and graph.link_into("2", "value") is not None
    assert [g.title for g in graph.groups.values()] == ["Kept"]
    assert set(window.scene.nodes) == {"1", "2"} and set(window.scene.groups) == {"3"}
    kept = window.files.autosave.folder / "kept" / path.name
    assert not path.exists() and kept.exists()  # out of the start-up offer, never deleted
    (title, text), = errors
    assert "groups/1" in text and str(kept) in text
    window.view.viewport().grab()


def test_an_autosave_that_cannot_be_read_is_kept_and_its_place_named(qtbot, window):
    folder = window.files.autosave.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "autosave-999999999-0.json"
    path.write_text("{not json")
    errors = _errors(window)
    window.files.ask_restore = lambda source: pytest.fail("nothing readable to offer")
    assert not window.files.offer_restore()
    kept = folder / "kept" / path.name
    assert kept.read_text() == "{not json"
    assert str(kept) in errors[0][1]


def test_an_autosave_that_is_not_a_workflow_is_kept(qtbot, window):
    path = _leftover(window, '{"format": "something-else"}')
    errors = _errors(window)
    window.files.ask_restore = lambda source: "restore"
    assert not window.files.offer_restore()
    assert (window.files.autosave.folder / "kept" / path.name).exists()
    assert errors and "kept at" in errors[0][1]


@pytest.mark.parametrize("answer, stays", [("later", True), ("discard", False)])
def test_only_discarding_deletes_an_autosave(qtbot, window, registry, answer, stays):
    path = _leftover(window, _work_with_a_broken_group(registry))
    window.files.ask_restore = lambda source: answer
    assert not window.files.offer_restore()
    assert path.exists() == stays


def test_restoring_one_autosave_leaves_the_older_ones(qtbot, window, registry):
    older = _leftover(window, workflow.dumps(window.document.graph), "autosave-999999998-0.json")
    os.utime(older, (1, 1))
    newest = _leftover(window, _work_with_a_broken_group(registry).replace("false", '"x"'))
    window.files.ask_restore = lambda source: "restore"
    assert window.files.offer_restore()
    assert not newest.exists() and older.exists()  # restored in full: that one goes, only that one


def test_a_clean_quit_leaves_no_autosave_and_no_lock(qtbot, registry, tmp_path):
    win = MainWindow(registry)
    qtbot.addWidget(win)
    win.files.ask_save_changes = lambda: "discard"
    win.document.add_node("basic.int", (0, 0))
    assert win.files.autosave_now()
    lock = win.files.autosave.file.with_suffix(".lock")
    assert lock.exists()
    win.close()
    win.runner.shutdown()
    assert not win.files.autosave.file.exists() and not lock.exists()
