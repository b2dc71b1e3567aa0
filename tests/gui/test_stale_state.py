"""Nothing stale after Stop, New or a restore: node states, the run table, the status bar, undo
labels, and the view of a restored workflow."""

from __future__ import annotations

from nodeflow.gui.outputs.entries import OutputImage

from .helpers import start_slow_run, wait_done
from .test_outputs import solid


def test_stop_leaves_no_queued_or_running_node_and_the_status_says_so(qtbot, window):
    start_slow_run(qtbot, window)
    window.stop()
    assert "Stopping" in window.statusBar().currentMessage()
    wait_done(qtbot, window)
    qtbot.waitUntil(lambda: "cancelled" in window.run_panel.status.text(), timeout=5_000)
    states = {item.run.state for item in window.scene.nodes.values()}
    assert not states & {"queued", "running"}
    table = window.run_panel.timings
    rows = [table.topLevelItem(i).text(1) for i in range(table.topLevelItemCount())]
    assert rows and set(rows) <= {"skipped", "cancelled"}
    assert "Stopping" not in window.statusBar().currentMessage()


def test_new_clears_the_run_table_and_the_images(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0), {"value": 5})
    s = doc.add_node("basic.show", (300, 0))
    doc.connect(a, "value", s, "value")
    window.run_workflow()
    wait_done(qtbot, window)
    window.output_viewer.add_images([OutputImage(solid("red"), s)])
    assert window.run_panel.timings.topLevelItemCount() == 2
    window.files.new()
    assert window.run_panel.timings.topLevelItemCount() == 0
    assert window.run_panel.status.text() == "Ready"
    assert window.output_viewer.entries == []


def test_undo_labels_name_node_titles(window):
    window.document.add_node("test.slow", (0, 0))
    assert window.actions_["undo"].text() == "&Undo Add Slow Count"


def test_restored_autosave_opens_framed(qtbot, window):
    doc = window.document
    far = [doc.add_node("basic.int", (x, y)) for x, y in ((4000, 3000), (4600, 3400))]
    assert window.files.autosave_now()
    autosave = window.files.autosave.file
    autosave.rename(autosave.with_name("autosave-999999999-0.json"))  # left by a process that is gone
    doc.new()
    window.view.set_zoom(1.0)
    window.view.centerOn(0, 0)
    window.files.ask_restore = lambda source: "restore"
    assert window.files.offer_restore()
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    for node_id in far:
        assert visible.contains(window.scene.nodes[node_id].sceneBoundingRect()), node_id
