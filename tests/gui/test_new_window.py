"""A new window: the default txt2img graph (which runs as it is) and the start panel beside the palette."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from nodeflow.core import default_registry
from nodeflow.core.paths import PROJECT_ROOT

from .helpers import main_window


@pytest.fixture
def full_window(qtbot, tmp_path):
    """The window over the built-in nodes, at a laptop's 1280x720."""
    with main_window(qtbot, default_registry(), tmp_path, size=(1280, 720)) as win:
        yield win


def test_new_opens_the_default_graph_and_the_start_panel(qtbot, full_window, tmp_path):
    window = full_window
    window.settings.add_recent(tmp_path / "mine.json")
    (tmp_path / "mine.json").write_text("{}")
    assert window.files.new()
    types = sorted(r.type for r in window.document.graph.nodes.values())
    assert "sampling.sampler" in types and "image.save" in types and "latent.empty" in types
    assert window.document.path is None and not window.document.dirty
    assert window.docks["start"].isVisible() and not window.start_panel.visibleRegion().isEmpty()
    assert window.start_panel.recent.count() == 1
    empty = next(b for b in window.start_panel.findChildren(QPushButton) if b.text() == "Empty canvas")
    qtbot.mouseClick(empty, Qt.MouseButton.LeftButton)
    assert window.document.graph.nodes == {}
    assert window.docks["palette"].isVisible() and not window.palette.visibleRegion().isEmpty()


def test_the_default_graph_runs_with_its_defaults(qtbot, full_window):
    if not (PROJECT_ROOT / "resources" / "models" / "tiny-shapes" / "model_index.json").is_file():
        pytest.skip("the built-in model is not there")
    window = full_window
    window.files.new()
    graph = window.document.graph
    for node_id, record in graph.nodes.items():  # fewer steps and pictures: the suite stays quick
        if "steps" in record.params:
            window.document.set_param(node_id, "steps", 3)
        if "batch_size" in record.params:
            window.document.set_param(node_id, "batch_size", 1)
    assert window.validate() == []
    window.run_workflow()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=180_000)
    entries = window.output_viewer.entries
    assert len(entries) == 1 and all(e.path is not None and e.path.is_file() for e in entries)
    assert (entries[0].image.width(), entries[0].image.height()) == (64, 64)  # the model's native size
    assert entries[0].seeds  # the seed that made it is shown
    log = window.run_panel.log.toPlainText()  # the file's own name, not the job's scratch copy
    assert f"saved {entries[0].path}" in log and "nodeflow-job-" not in log
