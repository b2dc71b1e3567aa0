"""Undo/redo of every kind of edit, clipboard, files, autosave, dirty marks."""

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from nodeflow.core import workflow

from .helpers import drag, wire


def test_undo_every_step_to_empty_and_redo_to_the_same_workflow(qtbot, window):
    doc = window.document
    view = window.view
    view.centerOn(300, 150)
    a = doc.add_node("basic.int", (0, 0))
    r = doc.add_node("basic.round", (300, 0))
    s = doc.add_node("basic.show", (300, 250))
    wire(qtbot, window, a, "value", r, "value")
    wire(qtbot, window, r, "value", s, "value")
    doc.set_param(a, "value", 4)
    window.scene.select_nodes([s])
    drag(qtbot, view, QPointF(360, 260), QPointF(420, 300))  # move by the title
    window.scene.select_nodes([a, r])
    view.edit_actions.group_selection("Numbers")
    view.edit_actions.toggle_mode("bypass")
    doc.set_ui(r, "Rename", title="Rounded")
    view.edit_actions.set_converted(a, "value", True)
    view.edit_actions.toggle_collapse()
    window.scene.select_nodes([s])
    view.edit_actions.duplicate()
    window.scene.select_nodes([r])
    view.edit_actions.delete()
    final = doc.text()
    assert [doc.undo.text(i) for i in range(doc.undo.count())] == [
        "Add Integer", "Add Round", "Add Show Value", "Connect Integer (node 1) value → Round (node 2) value",
        "Connect Round (node 2) value → Show Value (node 3) value", "Edit value of Integer (node 1)",
        "Move Show Value (node 3)", "Add group 'Numbers'", "Bypass 2 nodes", "Rename Round (node 2)",
        "Convert widget", "Collapse 2 nodes", "Paste", "Delete Rounded (node 2)"]
    while doc.undo.canUndo():
        doc.undo.undo()
    assert doc.graph.nodes == {} and doc.graph.groups == {} and doc.graph.links == {}
    assert window.scene.items() == []  # no node, wire or frame item is left behind
    while doc.undo.canRedo():
        doc.undo.redo()
    assert doc.text() == final
    assert set(window.scene.nodes) == set(doc.graph.nodes)
    assert set(window.scene.links) == set(doc.graph.links)


def test_typing_in_a_node_text_field_is_one_undo_step(qtbot, window):
    doc = window.document
    t = doc.add_node("basic.text", (0, 0))
    window.view.centerOn(100, 50)
    item = window.scene.nodes[t]
    item.widgets.row = item.layout.widgets[0]
    item.widgets.open_editor(multiline=True)
    editor = item.widgets.editor.widget()
    steps = doc.undo.count()
    qtbot.keyClicks(editor, "a red circle")
    assert doc.graph.nodes[t].params["text"] == "a red circle"
    assert doc.undo.count() == steps + 1
    doc.undo.undo()
    assert doc.graph.nodes[t].params["text"] == ""


def test_inspector_edits_go_through_undo(qtbot, window):
    doc = window.document
    n = doc.add_node("test.take_image", (0, 0))
    window.scene.select_nodes([n])
    editors = window.inspector.editors
    assert set(editors) == {"strength", "seed"}
    editors["strength"].spin.setValue(0.75)
    editors["strength"].spin.setValue(0.8)
    assert doc.graph.nodes[n].params["strength"] == 0.8
    doc.undo.undo()  # both changes were one step
    assert doc.graph.nodes[n].params["strength"] == 0.5
    assert editors["strength"].spin.value() == 0.5  # the editor follows the graph


def test_copy_paste_through_the_system_clipboard(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0), {"value": 7})
    s = doc.add_node("basic.show", (300, 0))
    doc.connect(a, "value", s, "value")
    window.scene.select_nodes([a, s])
    assert window.view.edit_actions.copy()
    text = QGuiApplication.clipboard().text()
    assert '"format": "nodeflow-workflow"' in text
    new = window.view.edit_actions.paste(QPointF(0, 400))
    assert len(new) == 2 and set(new).isdisjoint({a, s})
    assert doc.graph.nodes[new[0]].params == {"value": 7}
    assert doc.graph.nodes[new[0]].ui["pos"] == [0, 400]
    assert doc.graph.link_into(new[1], "value").src == new[0]
    assert sorted(window.scene.selected_node_ids()) == sorted(new)
    doc.undo.undo()
    assert set(doc.graph.nodes) == {a, s}


def test_save_and_reopen_byte_identically(qtbot, window, tmp_path):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0), {"value": 3})
    s = doc.add_node("basic.show", (300, 0))
    doc.connect(a, "value", s, "value")
    doc.add_group("G", [-20, -50, 600, 300])
    path = tmp_path / "flow.json"
    window.files.ask_save_path = lambda: str(path)
    assert window.isWindowModified()
    assert window.files.save()
    assert not window.isWindowModified() and "flow.json" in window.windowTitle()
    first = path.read_bytes()
    window.files.new()
    assert doc.graph.nodes == {}
    assert window.files.open(path)
    assert doc.text().encode() == first
    window.files.save()
    assert path.read_bytes() == first
    assert str(path.resolve()) in window.settings.recent


def test_closing_with_unsaved_work_asks_first(qtbot, window):
    window.document.add_node("basic.int", (0, 0))
    asked = []
    window.files.ask_save_changes = lambda: asked.append(1) or "cancel"
    window.files.new()
    assert asked and window.document.graph.nodes  # cancelled: work kept


def test_restore_from_autosave_after_a_crash(qtbot, registry, window, tmp_path):
    from nodeflow.gui.main_window import MainWindow

    doc = window.document
    doc.add_node("basic.int", (0, 0), {"value": 9})
    assert window.files.autosave_now()
    saved = doc.text()
    # simulate a crash: the autosave stays behind with the id of a process that no longer runs
    crashed = window.files.autosave.file.with_name("autosave-4194399-1.json")
    window.files.autosave.file.rename(crashed)
    second = MainWindow(registry)
    qtbot.addWidget(second)
    second.files.ask_restore = lambda source: "restore"
    second.files.ask_save_changes = lambda: "discard"
    assert second.files.offer_restore()
    assert second.document.text() == saved
    assert second.document.dirty
    assert not crashed.exists()


def test_dropping_a_png_with_a_workflow_opens_it(qtbot, window, tmp_path, registry):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from nodeflow.core import Graph
    from nodeflow.core.files import PNG_WORKFLOW_KEY

    g = Graph(registry)
    g.add_node("basic.text", {"text": "hello"}, {"pos": [0, 0]})
    info = PngInfo()
    info.add_text(PNG_WORKFLOW_KEY, workflow.dumps(g))
    png = tmp_path / "made.png"
    Image.new("RGB", (8, 8)).save(png, pnginfo=info)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(png))])
    enter = QDragEnterEvent(QPoint(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), enter)
    drop = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), drop)
    assert [r.params for r in window.document.graph.nodes.values()] == [{"text": "hello"}]
    assert window.document.path is None  # a PNG is never overwritten by Save


def test_layout_and_recent_files_are_remembered(qtbot, registry, window, tmp_path):
    from nodeflow.gui.main_window import MainWindow
    from nodeflow.gui.settings import Settings

    path = tmp_path / "x.json"
    window.files.ask_save_path = lambda: str(path)
    window.files.save()
    window.docks["run"].hide()
    window.close()
    assert Settings.path().exists()
    again = MainWindow(registry)
    qtbot.addWidget(again)
    assert again.settings.recent[0] == str(Path(path).resolve())
    assert [a.text() for a in again.recent_menu.actions()] == [str(path.resolve())]
    assert again.docks["run"].isHidden()


def test_examples_open_as_untitled_copies(qtbot, window):
    from nodeflow.core.paths import PROJECT_ROOT

    example = PROJECT_ROOT / "workflows" / "txt2img.json"
    # the fixture's registry lacks the diffusion nodes: they load as placeholders, still shown
    assert window.files.open_example(example)
    assert window.document.path is None and not window.document.dirty
    assert len(window.scene.nodes) == len(window.document.graph.nodes) > 0


def test_advancing_seeds_skips_what_it_cannot_move(qtbot, registry):
    from nodeflow.gui.document import Document

    doc = Document(registry)
    text = ('{"format": "nodeflow-workflow", "version": 1, "nodes": ['
            '{"id": "1", "type": "plugin.gone", "params": {"seed": "abc"}, "seed_control": {"seed": "increment"}},'
            '{"id": "2", "type": "test.take_image", "params": {"seed": 7},'
            ' "seed_control": {"seed": "decrement", "strength": "increment", "old": "increment"}}],'
            ' "links": []}')
    doc.open_text(text, dirty=False)
    doc.advance_seeds()
    assert doc.graph.nodes["1"].params == {"seed": "abc"}  # a placeholder keeps its values
    assert doc.graph.nodes["2"].params["seed"] == 6  # only real seeds move
    assert doc.graph.nodes["2"].params.get("strength", 0.5) == 0.5
    assert doc.undo.count() == 1
