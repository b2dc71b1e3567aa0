"""Running workflows from the window: node states, timings, outputs, cancel, validation. Every
Run is a one-job batch of the editor's queue (the shared job store): the tests check the store too."""

from pathlib import Path

from PySide6.QtCore import Qt

from nodeflow.core import Input, Node
from nodeflow.core.types import STRING
from nodeflow.engine import events as ev

from .helpers import start_slow_run, wait_done


def collect(window) -> list:
    events = []
    window.runner.event.connect(events.append)
    return events


def states(window) -> list[str]:
    """The states of the editor's jobs in the store, in the order they were queued."""
    return [job.state for job in window.runner.store.jobs(window.runner.batch)]


def test_ctrl_enter_runs_and_nodes_show_their_states(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0), {"value": 5})
    s = doc.add_node("basic.show", (300, 0))
    doc.connect(a, "value", s, "value")
    events = collect(window)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == "Run 1 queued"
    wait_done(qtbot, window)
    kinds = [type(e) for e in events]
    assert kinds[0] is ev.RunStarted and kinds[-1] is ev.RunFinished
    assert window.scene.nodes[a].run.state == "done"
    assert window.scene.nodes[s].run.state == "done"
    assert window.scene.nodes[s].run.seconds is not None
    assert "5" in window.run_panel.log.toPlainText()
    assert window.run_panel.timings.topLevelItemCount() == 2
    assert states(window) == ["done"]  # a one-job batch of the editor's queue
    # nothing changed: the window's one executor serves everything from its cache but the output
    # node, which runs for every job (each job writes its own outputs)
    window.run_workflow()
    wait_done(qtbot, window)
    assert window.scene.nodes[a].run.state == "cached"
    assert window.scene.nodes[s].run.state == "done"
    assert states(window) == ["done", "done"]


def test_output_images_reach_the_viewer_and_the_node(qtbot, window):
    doc = window.document
    sw = doc.add_node("test.swatch", (0, 0), {"size": 24, "color": "blue"})
    before = window.scene.nodes[sw].layout.height
    window.run_workflow()
    wait_done(qtbot, window)
    assert len(window.output_viewer.entries) == 1
    image = window.output_viewer.entries[0].image
    assert (image.width(), image.pixelColor(3, 3).name()) == (24, "#0000ff")
    assert window.scene.nodes[sw].image is not None
    assert window.scene.nodes[sw].layout.height > before  # the thumbnail has room


def test_validation_problems_show_on_nodes_before_running(qtbot, window):
    doc = window.document
    s = doc.add_node("basic.show", (0, 0))  # its input is required but unlinked
    events = collect(window)
    assert window.run_workflow() is None
    assert events == [] and not window.runner.busy
    assert states(window) == []  # nothing was queued
    item = window.scene.nodes[s]
    assert item.run.state == "invalid" and item.run.problems
    assert "value" in item.run.problem_fields
    assert "problem" in window.run_panel.log.toPlainText()


def test_a_failing_node_turns_red_with_its_message(qtbot, window):
    doc = window.document
    m = doc.add_node("basic.math", (0, 0), {"a": 1.0, "b": 0.0, "operation": "divide"})
    s = doc.add_node("basic.show", (300, 0))
    doc.connect(m, "result", s, "value")
    window.run_workflow()
    wait_done(qtbot, window)
    assert window.scene.nodes[m].run.state == "failed"
    assert "divide" in window.scene.nodes[m].run.message
    assert window.scene.nodes[s].run.state == "skipped"
    job = window.runner.store.jobs(window.runner.batch)[0]
    assert job.state == "failed" and "divide" in job.error


def test_stop_cancels_the_running_job_in_the_store_and_the_queued_runs_go_on(qtbot, window):
    doc = window.document
    events = collect(window)
    slow = start_slow_run(qtbot, window)
    assert window.actions_["stop"].isEnabled()
    doc.set_param(slow, "steps", 10)  # editing while it runs is fine: the job has its own copy
    second = window.run_workflow()  # a second and a third run wait in the queue, in order
    third = window.run_workflow()
    assert states(window) == ["running", "queued", "queued"]
    assert window.run_panel.queue_label.text() == f"queued: run {second.number}, run {third.number}"
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Escape)  # Esc: the store's cancel of the running job
    assert states(window)[0] == "cancelled"
    qtbot.waitUntil(lambda: any(isinstance(e, ev.RunFinished) for e in events), timeout=5_000)
    assert not any(isinstance(e, ev.NodeFinished) and e.node_id == slow for e in events)
    # The log keeps the line; the status label may already show the next queued run starting.
    assert "run cancelled" in window.run_panel.log.toPlainText()
    wait_done(qtbot, window)
    assert states(window) == ["cancelled", "done", "done"]  # the queued runs went on
    finished = [e for e in events if isinstance(e, ev.RunFinished)]
    assert [(e.cancelled, e.ok) for e in finished] == [(True, False), (False, True), (False, True)]
    assert window.scene.nodes[slow].run.state == "cached"  # the third job: the second's result
    assert not window.actions_["stop"].isEnabled()


def pick_from_next_menu(qtbot, choice: str) -> None:
    """When the next popup menu opens, choose the entry whose data is `choice` with the keyboard."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def pick() -> None:
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(20, pick)
            return
        menu.setActiveAction(next(a for a in menu.actions() if a.data() == choice))
        qtbot.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(20, pick)


def test_seed_mode_is_saved_with_the_workflow_and_applied_after_a_run(qtbot, window, tmp_path):
    from PySide6.QtCore import QPointF

    from .helpers import vp

    doc = window.document
    sw = doc.add_node("test.swatch", (0, 0))
    t = doc.add_node("test.take_image", (300, 0), {"seed": 41})
    untouched = doc.add_node("test.take_image", (300, 300))
    doc.connect(sw, "image", t, "image")
    doc.connect(sw, "image", untouched, "image")
    item = window.scene.nodes[t]
    row = next(w for w in item.layout.widgets if w.name == "seed" and w.seed_control)
    window.view.centerOn(item)
    steps = doc.undo.count()
    pick_from_next_menu(qtbot, "increment")
    at = vp(window.view, item.mapToScene(QPointF(item.layout.width / 2, row.y + row.height / 2)))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert doc.graph.nodes[t].ui["seed_control"] == {"seed": "increment"}
    assert "seed_control" not in doc.graph.nodes[untouched].ui  # untouched nodes keep their bytes
    assert doc.undo.count() == steps + 1
    doc.undo.undo()
    assert "seed_control" not in doc.graph.nodes[t].ui
    doc.undo.redo()

    path = tmp_path / "seeded.json"
    window.files.ask_save_path = lambda: str(path)
    assert window.files.save()
    window.files.new()
    assert window.files.open(path)
    assert doc.graph.nodes[t].ui["seed_control"] == {"seed": "increment"}
    window.scene.select_nodes([t])
    assert window.inspector.editors["seed"].mode.currentText() == "increment"

    window.run_workflow()
    assert doc.graph.nodes[t].params["seed"] == 42
    assert doc.graph.nodes[untouched].params["seed"] == 0  # fixed by default
    wait_done(qtbot, window)


def test_inspector_seed_mode_goes_through_undo(qtbot, window):
    doc = window.document
    t = doc.add_node("test.take_image", (0, 0), {"seed": 5})
    window.scene.select_nodes([t])
    combo = window.inspector.editors["seed"].mode
    combo.setCurrentText("randomize")
    assert doc.graph.nodes[t].ui["seed_control"] == {"seed": "randomize"}
    assert window.inspector.editors["seed"].mode is combo  # followed in place, not rebuilt
    combo.setCurrentText("fixed")  # the default is stored by leaving the key out
    assert "seed_control" not in doc.graph.nodes[t].ui
    doc.undo.undo()
    assert combo.currentText() == "randomize"
    doc.undo.undo()
    assert combo.currentText() == "fixed" and "seed_control" not in doc.graph.nodes[t].ui


def test_gui_start_up_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from nodeflow.gui.main_window import MainWindow; w = MainWindow(); w.show(); app.processEvents();"
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_app_main_opens_the_file_and_returns(qtbot, tmp_path, registry):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from nodeflow.core.paths import PROJECT_ROOT
    from nodeflow.gui import app
    from nodeflow.gui.main_window import MainWindow

    seen = []

    def check_and_close():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen.extend(w.windowTitle() for w in windows)
        for w in windows:
            w.close()
        QApplication.instance().quit()

    # Closing the last window would post a second Quit event; left in the queue, it would stop
    # every event loop of the tests that come after this one (their waits would return at once).
    qapp = QApplication.instance()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        QTimer.singleShot(200, check_and_close)
        assert app.main(str(PROJECT_ROOT / "workflows" / "txt2img.json")) == 0
    finally:
        qapp.setQuitOnLastWindowClosed(True)
    assert any(title.startswith("txt2img.json") for title in seen)


class UsesModel(Node):
    """An output node that reports a model file as used, as Load Checkpoint does."""

    type_id = "test.uses_model"
    title = "Uses Model"
    category = "test"
    is_output = True
    inputs = (Input("path", STRING, default=""),)
    outputs = ()

    def run(self, ctx, path):
        ctx.used_model_file(Path(path))
        return {}


def test_a_finished_run_records_its_manifest_in_the_workflow(qtbot, window, registry, tmp_path):
    import hashlib
    import json

    registry.register(UsesModel)
    model = tmp_path / "tiny.safetensors"
    model.write_bytes(b"weights")
    doc = window.document
    doc.add_node("test.uses_model", (0, 0), {"path": str(model)})
    assert doc.graph.manifest == {}
    window.run_workflow()
    steps = doc.undo.count()
    wait_done(qtbot, window)
    digest = "sha256:" + hashlib.sha256(b"weights").hexdigest()  # a file's plain sha256, name aside
    assert doc.graph.manifest["models"] == {str(model.resolve()): digest}
    assert doc.graph.manifest["runtime"]["python"] and doc.graph.manifest["app"]
    assert doc.undo.count() == steps  # a record of the run, not an edit
    path = tmp_path / "ran.json"
    window.files.ask_save_path = lambda: str(path)
    assert window.files.save()
    assert json.loads(path.read_text())["manifest"] == doc.graph.manifest
    window.files.new()
    assert window.files.open(path)
    assert doc.graph.manifest["models"] == {str(model.resolve()): digest}


def test_a_run_records_nothing_on_another_workflow_or_when_cancelled(qtbot, window):
    doc = window.document
    doc.add_node("test.swatch", (0, 0))
    window.run_workflow()
    window.files.new()  # opened another workflow while the first one ran
    wait_done(qtbot, window)
    assert doc.graph.manifest == {}
    start_slow_run(qtbot, window)
    window.stop()
    wait_done(qtbot, window)
    assert doc.graph.manifest == {}  # a cancelled run is not a record of what the workflow needs


def test_a_crash_outside_the_engine_fails_its_job_and_the_queue_goes_on(qtbot, window, monkeypatch):
    doc = window.document
    doc.add_node("test.swatch", (0, 0))
    real_run = window.runner.executor.run
    calls = []

    def crash_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real_run(*args, **kwargs)

    monkeypatch.setattr(window.runner.executor, "run", crash_once)
    window.run_workflow()
    window.run_workflow()
    wait_done(qtbot, window)
    assert states(window) == ["failed", "done"]
    assert window.runner.store.jobs(window.runner.batch)[0].error == "RuntimeError: boom"
    assert "error: RuntimeError: boom" in window.run_panel.log.toPlainText()


def test_the_editor_pins_the_thread_count_the_cli_and_server_pin(qtbot, registry, tmp_path):
    """The same count as `nodeflow run`, `nodeflow serve` and Ray workers: the same sums, the same pixels."""
    from nodeflow.engine.device import default_threads
    from nodeflow.gui.job_runner import JobQueueRunner
    from nodeflow.jobs.store import JobStore

    runner = JobQueueRunner(JobStore(tmp_path / "jobs.sqlite"), registry)
    assert runner.executor.threads == default_threads()
