"""Run ×N from the editor does what was asked: N sets of files even when the graph just ran,
seeds that go on across presses, and each finished job's pictures in Output as it finishes."""

from __future__ import annotations

from PySide6.QtCore import Qt

from nodeflow.engine import Executor
from nodeflow.gui.main_window import MainWindow

from .helpers import wait_done
from .test_queue_panel import SavePng, click


def test_run_n_after_a_run_writes_n_sets_continues_seeds_and_shows_them(qtbot, registry, tmp_path):
    from nodeflow.gui import queue_dock

    registry.register(SavePng)
    out = tmp_path / "out"
    win = MainWindow(registry, executor=Executor(registry, device="cpu"), output_dir=out)
    win.files.ask_save_changes = lambda: "discard"
    qtbot.addWidget(win)
    panel = queue_dock.install(win)
    try:
        doc = win.document
        slow = doc.add_node("test.slow", (0, 0), {"steps": 1, "delay": 0.0})
        save = doc.add_node("test.save_png", (300, 0), {"seed": 5})
        doc.connect(slow, "value", save, "value")
        win.run_workflow()  # what the jobs below would otherwise be served from the cache
        wait_done(qtbot, win)
        assert [(j.number, j.state) for j in panel.store.jobs()] == [(1, "done")]  # Run: a job like any other
        before = set(out.rglob("*.png"))
        shown = len(win.output_viewer.entries)
        panel.count.setValue(3)
        click(qtbot, panel.run_button)
        qtbot.waitUntil(lambda: len(panel.store.jobs(states=["done"])) == 4, timeout=30000)
        assert len(set(out.rglob("*.png")) - before) == 3  # the first job, served from the cache, saved too
        qtbot.waitUntil(lambda: len(win.output_viewer.entries) == shown + 3, timeout=5000)
        assert doc.graph.nodes[save].params["seed"] == 8  # 5, 6, 7 queued: the next press starts at 8
        panel.count.setValue(1)
        click(qtbot, panel.run_button)
        qtbot.waitUntil(lambda: len(panel.store.jobs(states=["done"])) == 5, timeout=30000)
        seeds = sorted(job.overrides.get(f"{save}.seed", job_seed(job, save)) for job in panel.store.jobs())
        assert seeds == [5, 5, 6, 7, 8]  # Run's (a fixed seed), then Run ×3's and Run ×1's
    finally:
        panel.runner.shutdown()
        win.runner.shutdown()


def job_seed(job, node_id: str) -> int:
    """The seed a job ran with when it has no override: the one in its workflow snapshot."""
    import json

    snapshot = json.loads(job.workflow)
    return next(n["params"]["seed"] for n in snapshot["nodes"] if n["id"] == node_id)


def toolbar_button(win, name: str):
    from PySide6.QtWidgets import QToolBar

    tools = win.findChild(QToolBar, "toolbar-main")
    return tools.widgetForAction(win.actions_[name])


def test_run_and_stop_on_the_toolbar_are_jobs_of_the_queue_tab(qtbot, registry, tmp_path):
    """The toolbar's Run queues a one-job batch the Queue tab lists like any other; its Stop and the
    tab's Stop are one rule (the store's cancel of the running job); a queued run the tab cancels
    never runs."""
    from nodeflow.gui import queue_dock

    registry.register(SavePng)
    win = MainWindow(registry, executor=Executor(registry, device="cpu"), output_dir=tmp_path / "out")
    win.files.ask_save_changes = lambda: "discard"
    qtbot.addWidget(win)
    panel = queue_dock.install(win)
    with qtbot.waitExposed(win):
        win.show()
    try:
        doc = win.document
        slow = doc.add_node("test.slow", (0, 0), {"steps": 400, "delay": 0.02})
        save = doc.add_node("test.save_png", (300, 0), {"seed": 3})
        doc.connect(slow, "value", save, "value")
        for _ in range(3):
            click(qtbot, toolbar_button(win, "run"))
        store = panel.store
        assert [(j.number, j.batch) for j in store.jobs()] == [(1, "gui"), (2, "gui"), (3, "gui")]
        qtbot.waitUntil(lambda: win.scene.nodes[slow].run.progress is not None, timeout=10_000)
        panel.refresh()
        assert [panel.queued.item(row).data(Qt.ItemDataRole.UserRole).number
                for row in range(panel.queued.count())] == [1, 2, 3]
        panel.queued.setCurrentRow(2)
        click(qtbot, panel.cancel_button)  # run 3 leaves the queue before it starts
        click(qtbot, toolbar_button(win, "stop"))
        assert [j.state for j in store.jobs()][::2] == ["cancelled", "cancelled"]
        qtbot.waitUntil(lambda: store.jobs()[1].state == "running", timeout=10_000)
        qtbot.waitUntil(lambda: panel.stop_button.isEnabled(), timeout=5_000)
        click(qtbot, panel.stop_button)  # the tab's Stop: the same cancel
        wait_done(qtbot, win)
        assert [j.state for j in store.jobs()] == ["cancelled", "cancelled", "cancelled"]
        assert not (tmp_path / "out" / "index.jsonl").exists()  # nothing ran to its end
        assert win.scene.nodes[slow].run.state == "skipped" and not win.actions_["stop"].isEnabled()
        doc.set_param(slow, "steps", 1)
        click(qtbot, toolbar_button(win, "run"))
        wait_done(qtbot, win)
        assert store.jobs()[-1].state == "done" and store.jobs()[-1].number == 4
        entry = win.output_viewer.entries[-1]  # its picture, under the name the queue wrote, with its seed
        assert (entry.path.name, entry.node_id, entry.seeds) == ("swatch_00004_01.png", save, (3,))
        assert f"run 4 saved {tmp_path / 'out' / 'swatch_00004_01.png'}" in win.run_panel.log.toPlainText()
        panel.refresh()
        assert "done" in panel.history.item(0).text() and "#4" in panel.history.item(0).text()
    finally:
        win.runner.shutdown()

