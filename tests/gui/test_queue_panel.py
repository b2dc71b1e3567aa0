"""Queue & History panel driven through its widgets: Run ×N, reorder, cancel, pause, Stop, history."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from nodeflow.core import Graph, Input, Node
from nodeflow.core.types import INT, STRING
from nodeflow.engine import Executor
from nodeflow.gui.job_runner import JobQueueRunner
from nodeflow.gui.queue_panel import Current, QueuePanel
from nodeflow.gui.sweep_dialog import SweepDialog
from nodeflow.jobs.store import JobStore


class SavePng(Node):
    """Saves a small PNG whose colour depends on the seed."""

    type_id = "test.save_png"
    title = "Save PNG"
    category = "test"
    is_output = True
    inputs = (Input("value", INT), Input("seed", INT, default=0, min=0, seed=True),
              Input("prefix", STRING, default="swatch", output_prefix=True))
    outputs = ()

    def run(self, ctx, value, seed, prefix):
        from PIL import Image

        image = Image.new("RGB", (16, 16), (seed * 40 % 256, value % 256, 0))
        ctx.write_output(prefix, ".png", lambda handle: image.save(handle, format="PNG"), field="prefix")
        return {}


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def numbers(widget) -> list[int]:
    return [widget.item(row).data(Qt.ItemDataRole.UserRole).number for row in range(widget.count())]


def make_panel(qtbot, registry, tmp_path, steps: int, delay: float):
    registry.register(SavePng)
    graph = Graph(registry)
    slow = graph.add_node("test.slow", {"steps": steps, "delay": delay}).id
    save = graph.add_node("test.save_png", {"seed": 1}).id
    graph.connect(slow, "value", save, "value")
    store = JobStore(tmp_path / "queue.sqlite3")
    runner = JobQueueRunner(store, registry, Executor(registry, device="cpu"))
    panel = QueuePanel(store, runner, lambda: Current(graph, None, tmp_path / "out", "wf.json"), registry,
                       poll_ms=100)
    qtbot.addWidget(panel)
    return panel, store, runner, save


def test_run_n_reorder_cancel_pause_and_history(qtbot, registry, tmp_path):
    panel, store, runner, save = make_panel(qtbot, registry, tmp_path, steps=2, delay=0.01)
    try:
        panel.pause_box.setChecked(True)
        panel.count.setValue(3)
        click(qtbot, panel.run_button)
        assert numbers(panel.queued) == [1, 2, 3] and panel.status.text() == "queued 3 jobs"
        panel.queued.setCurrentRow(2)
        click(qtbot, panel.up_button)
        click(qtbot, panel.up_button)
        assert numbers(panel.queued) == [3, 1, 2]
        click(qtbot, panel.down_button)
        assert numbers(panel.queued) == [1, 3, 2]
        panel.queued.setCurrentRow(0)
        click(qtbot, panel.cancel_button)
        assert numbers(panel.queued) == [3, 2] and numbers(panel.history) == [1]
        assert all(j.state == "queued" for j in store.jobs(states=["queued"]))  # paused: nothing ran

        panel.pause_box.setChecked(False)
        qtbot.waitUntil(lambda: len(store.jobs(states=["done"])) == 2, timeout=30000)
        qtbot.waitUntil(lambda: panel.history.count() == 3, timeout=5000)
        assert numbers(panel.history)[:2] == [2, 3]  # newest first: 3 ran before 2
        index = [json.loads(line) for line in (tmp_path / "out" / "index.jsonl").read_text().splitlines()]
        assert [(e["job"], e["set"]) for e in index] == [(3, {f"{save}.seed": 3}), (2, {f"{save}.seed": 2})]

        panel.history.setCurrentRow(1)  # job 3
        item = panel.history.currentItem()
        assert not item.icon().isNull() and "done" in item.text()
        panel.history.setCurrentRow(0)
        with qtbot.waitSignal(panel.images_selected) as shown:
            panel.history.setCurrentRow(1)
        assert [p.name for p in shown.args[0]] == ["swatch_00003_01.png"]
        assert panel.preview.pixmap() is not None and not panel.preview.pixmap().isNull()
        with qtbot.waitSignal(panel.open_workflow) as opened:
            click(qtbot, panel.open_button)
        text, title = opened.args
        assert title == "wf #3"
        assert next(n for n in json.loads(text)["nodes"] if n["id"] == save)["params"]["seed"] == 3

        panel.history.setCurrentRow(2)  # the cancelled job 1: Retry queues it again
        click(qtbot, panel.retry_button)
        qtbot.waitUntil(lambda: store.jobs(states=["done"]).__len__() == 3, timeout=30000)
        click(qtbot, panel.clear_button)
        assert panel.history.count() == 0 and store.jobs() == []
    finally:
        runner.shutdown()


def test_stop_cancels_only_the_running_job_and_closing_keeps_the_queue(qtbot, registry, tmp_path):
    panel, store, runner, _ = make_panel(qtbot, registry, tmp_path, steps=400, delay=0.02)
    try:
        panel.count.setValue(2)
        click(qtbot, panel.run_button)
        qtbot.waitUntil(lambda: [j.number for j in store.jobs(states=["running"])] == [1], timeout=10000)
        qtbot.waitUntil(panel.stop_button.isEnabled, timeout=5000)
        click(qtbot, panel.stop_button)
        qtbot.waitUntil(lambda: [j.number for j in store.jobs(states=["running"])] == [2], timeout=10000)
        assert [j.number for j in store.jobs(states=["cancelled"])] == [1]
    finally:
        runner.shutdown()
    assert [(j.number, j.state) for j in store.jobs(states=["queued"])] == [(2, "queued")]
    assert not (tmp_path / "out" / "index.jsonl").exists()


def test_sweep_dialog_expands_and_refuses_bad_rows(qtbot, registry):
    graph = Graph(registry)
    node = graph.add_node("test.slow", {"steps": 2}).id
    dialog = SweepDialog(graph)
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.targets[0], f"{node}.steps")
    qtbot.keyClicks(dialog.specs[0], "1..3")
    assert len(dialog.jobs) == 3 and dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.targets[1], f"{node}.delay")
    qtbot.keyClicks(dialog.specs[1], "0,0.5")
    assert len(dialog.jobs) == 6 and dialog.count.text() == "6 jobs"
    dialog.zip_box.setChecked(True)
    assert not dialog.ok_button.isEnabled() and "differ in length" in dialog.error.text()
    dialog.zip_box.setChecked(False)
    dialog.specs[0].setText("1..x")
    assert not dialog.ok_button.isEnabled() and "a range takes integers" in dialog.error.text()
    dialog.specs[0].setText("1,99999")
    assert f"node {node} input 'steps': 99999 is above the maximum" in dialog.error.text()


def test_the_window_docks_the_queue_shows_a_job_s_images_and_opens_its_workflow(qtbot, registry, tmp_path):
    from nodeflow.gui import queue_dock
    from nodeflow.gui.main_window import MainWindow

    registry.register(SavePng)
    win = MainWindow(registry, executor=Executor(registry, device="cpu"), output_dir=tmp_path / "out")
    win.files.ask_save_changes = lambda: "discard"
    qtbot.addWidget(win)
    panel = queue_dock.install(win)
    try:
        doc = win.document
        slow = doc.add_node("test.slow", (0, 0), {"steps": 1, "delay": 0.0})
        save = doc.add_node("test.save_png", (300, 0), {"seed": 5})
        doc.connect(slow, "value", save, "value")
        assert win.docks["queue"].widget() is panel
        panel.count.setValue(2)
        click(qtbot, panel.run_button)
        qtbot.waitUntil(lambda: len(panel.store.jobs(states=["done"])) == 2, timeout=30000)
        assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["swatch_00001_01.png",
                                                                           "swatch_00002_01.png"]
        panel.refresh()
        shown = len(win.output_viewer.entries)
        panel.history.setCurrentRow(0)  # job 2: seed 6
        assert [e.path.name for e in win.output_viewer.entries[shown:]] == ["swatch_00002_01.png"]
        panel.refresh()
        assert len(win.output_viewer.entries) == shown + 1  # a refresh re-shows nothing
        doc.set_param(save, "seed", 99)
        click(qtbot, panel.open_button)
        assert doc.graph.nodes[save].params["seed"] == 6 and doc.dirty
    finally:
        panel.runner.shutdown()
        win.runner.shutdown()


def test_sweep_dialog_picks_node_and_parameter_from_a_list(qtbot, registry):
    graph = Graph(registry)
    node = graph.add_node("test.slow", {"steps": 2}).id
    dialog = SweepDialog(graph)
    qtbot.addWidget(dialog)
    box = dialog.targets[0]
    labels = [box.itemText(i) for i in range(box.count())]
    assert f"Slow Count (node {node}) · steps" in labels and f"Slow Count (node {node}) · delay" in labels
    box.setCurrentIndex(labels.index(f"Slow Count (node {node}) · steps"))
    qtbot.keyClicks(dialog.specs[0], "1..4")
    assert len(dialog.jobs) == 4 and dialog.ok_button.isEnabled()
    assert [job.overrides for job in dialog.jobs][-1] == {f"{node}.steps": 4}


def test_stop_reaches_a_job_the_worker_claimed_before_the_window_heard_of_it(qtbot, registry, tmp_path, monkeypatch):
    """The worker claims a job in the store, then tells the window which one it runs. A Stop pressed
    in between must still cancel it: it used to find no job and let the run go on to its end."""
    import threading

    from nodeflow.gui import job_runner

    told = threading.Event()
    tell = job_runner._Thread._begin

    def late_begin(thread, job):
        told.wait(10)
        tell(thread, job)

    monkeypatch.setattr(job_runner._Thread, "_begin", late_begin)
    panel, store, runner, _ = make_panel(qtbot, registry, tmp_path, steps=100, delay=0.02)
    try:
        click(qtbot, panel.run_button)
        qtbot.waitUntil(lambda: [j.number for j in store.jobs(states=["running"])] == [1], timeout=10000)
        qtbot.waitUntil(panel.stop_button.isEnabled, timeout=5000)
        click(qtbot, panel.stop_button)
        assert panel.status.text() == "stopping job 1"
        told.set()
        qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
        assert [(j.number, j.state) for j in store.jobs()] == [(1, "cancelled")]
    finally:
        told.set()
        runner.shutdown()
    assert not (tmp_path / "out" / "index.jsonl").exists()
