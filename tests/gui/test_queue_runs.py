"""Run ×N from the editor does what was asked: N sets of files even when the graph just ran,
seeds that go on across presses, and each finished job's pictures in Output as it finishes."""

from __future__ import annotations

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
        before = set(out.rglob("*.png"))
        shown = len(win.output_viewer.entries)
        panel.count.setValue(3)
        click(qtbot, panel.run_button)
        qtbot.waitUntil(lambda: len(panel.store.jobs(states=["done"])) == 3, timeout=30000)
        assert len(set(out.rglob("*.png")) - before) == 3  # the first job, served from the cache, saved too
        qtbot.waitUntil(lambda: len(win.output_viewer.entries) == shown + 3, timeout=5000)
        assert doc.graph.nodes[save].params["seed"] == 8  # 5, 6, 7 queued: the next press starts at 8
        panel.count.setValue(1)
        click(qtbot, panel.run_button)
        qtbot.waitUntil(lambda: len(panel.store.jobs(states=["done"])) == 4, timeout=30000)
        seeds = sorted(job.overrides.get(f"{save}.seed", job_seed(job, save)) for job in panel.store.jobs())
        assert seeds == [5, 6, 7, 8]
    finally:
        panel.runner.shutdown()
        win.runner.shutdown()


def job_seed(job, node_id: str) -> int:
    """The seed a job ran with when it has no override: the one in its workflow snapshot."""
    import json

    snapshot = json.loads(job.workflow)
    return next(n["params"]["seed"] for n in snapshot["nodes"] if n["id"] == node_id)
