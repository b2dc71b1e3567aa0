"""The memory budget in the toolbar and the estimate before Run (issue 15: "a GUI setting", "the GUI
shows the estimate before Run"), driven through the real combo box, line edit and document."""

from __future__ import annotations

import re

import psutil
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from nodeflow.core import default_registry
from nodeflow.core.byte_sizes import parse_size
from nodeflow.core.paths import PROJECT_ROOT
from nodeflow.gui import theme
from nodeflow.gui.memory_bar import PRESETS
from nodeflow.gui.settings import Settings

from .helpers import main_window

TXT2IMG = PROJECT_ROOT / "workflows" / "txt2img.json"
needs_model = pytest.mark.skipif(not (PROJECT_ROOT / "resources" / "models" / "tiny-shapes" / "model_index.json")
                                 .is_file(), reason="the built-in model is not there")


def pick(qtbot, combo, text: str) -> None:
    """Open the combo's list and click the item `text`, as a user does."""
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    rect = view.visualRect(combo.model().index(combo.findText(text), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible())


def type_budget(qtbot, combo, text: str) -> None:
    """Select what the combo's field holds, type `text` over it, press Enter."""
    edit = combo.lineEdit()
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def shown(window) -> tuple[int, int]:
    """(peak, budget) in bytes as the estimate label shows them, once it has been computed."""
    match = re.match(r"Peak ≈ ([\d.]+ [KMGT]?B) of ([\d.]+ [KMGT]?B)", window.memory_bar.estimate.text())
    assert match, window.memory_bar.estimate.text()
    return parse_size(match.group(1)), parse_size(match.group(2))


def opened(qtbot, window):
    """Open the shipped txt2img and wait for its first estimate; returns the memory plan behind it."""
    window.files.open(TXT2IMG)
    qtbot.waitUntil(lambda: not window.memory_bar.timer.isActive(), timeout=5000)
    problems, plan = window.runner.executor.check(window.document.graph, TXT2IMG.parent)
    assert problems == [] and plan is not None
    return plan


def test_a_chosen_or_typed_budget_goes_to_the_settings_and_the_memory_manager_and_persists(qtbot, window, tmp_path,
                                                                                          registry):
    combo, models = window.memory_bar.combo, window.runner.executor.models
    assert combo.currentText() == "Auto" and window.settings.memory_budget == "" and models.budget is None
    assert [combo.itemText(i) for i in range(combo.count())] == list(PRESETS)
    pick(qtbot, combo, "4 GB")
    assert window.settings.memory_budget == "4 GB" and models.budget == 4 * 10**9
    assert Settings.load().memory_budget == "4 GB"  # saved at once, not only when the window closes
    type_budget(qtbot, combo, "3.5GB")
    assert combo.currentText() == "3.5GB" and models.budget == 3_500_000_000
    assert "3.5 GB" in window.statusBar().currentMessage()
    type_budget(qtbot, combo, "lots")
    message = window.statusBar().currentMessage()
    assert "'lots'" in message and "keeping 3.5GB" in message and "\n" not in message
    assert combo.currentText() == "3.5GB" and models.budget == 3_500_000_000
    assert Settings.load().memory_budget == "3.5GB"
    with main_window(qtbot, registry, tmp_path) as again:  # same user folder: the budget comes back
        assert again.memory_bar.combo.currentText() == "3.5GB"
        assert again.runner.executor.models.budget == 3_500_000_000
    from nodeflow.gui.main_window import MainWindow

    lazy = MainWindow(registry)  # no executor given: the one it makes on first use gets the budget
    qtbot.addWidget(lazy)
    assert lazy.runner.executor.models.budget == 3_500_000_000
    pick(qtbot, lazy.memory_bar.combo, "Auto")
    assert lazy.settings.memory_budget == "" and lazy.runner.executor.models.budget is None
    assert Settings.load().memory_budget == ""
    lazy.runner.shutdown()


@needs_model
def test_an_edit_to_the_graph_changes_the_estimate(qtbot, full_window):
    window = full_window
    plan = opened(qtbot, window)
    peak, _ = shown(window)
    assert peak == parse_size(f"{plan.peak / 1e6:.1f}MB")  # the label shows the plan Run checks
    latent = next(i for i, r in window.document.graph.nodes.items() if r.type == "latent.empty")
    window.document.set_param(latent, "batch_size", 16)
    assert window.memory_bar.timer.isActive()  # debounced: a burst of edits costs one estimate
    qtbot.waitUntil(lambda: shown(window)[0] > peak, timeout=5000)
    bigger, _ = shown(window)
    window.document.undo.undo()
    qtbot.waitUntil(lambda: shown(window)[0] < bigger, timeout=5000)
    assert shown(window)[0] == peak
    window.document.move({latent: (None, [5, 5])})  # layout cannot change the plan: no recomputation
    assert not window.memory_bar.timer.isActive()
    window.document.rename(latent, "Canvas")  # but a new title shows in the plan's table
    qtbot.waitUntil(lambda: "Canvas" in window.memory_bar.estimate.toolTip(), timeout=5000)


@needs_model
def test_a_budget_too_small_for_the_model_turns_red_and_run_refuses_it_on_the_node(qtbot, full_window):
    window = full_window
    plan = opened(qtbot, window)
    smallest = min(b for n in plan.nodes for _, b in n.components)
    type_budget(qtbot, window.memory_bar.combo, f"{smallest // 2}B")
    label = window.memory_bar.estimate
    assert "cannot fit" in label.text() and theme.ERROR.name() in label.styleSheet()
    assert "smaller than the smallest model component" in label.toolTip()
    assert window.run_workflow() is None and not window.runner.busy
    marked = {i: item.run.problems for i, item in window.scene.nodes.items() if item.run.state == "invalid"}
    assert marked and any("memory budget" in p for problems in marked.values() for p in problems)
    assert "Cannot run" in window.run_panel.status.text()


@needs_model
def test_a_budget_under_the_peak_but_over_each_node_warns_and_still_runs(qtbot, full_window):
    window = full_window
    plan = opened(qtbot, window)
    most = max(n.needs for n in plan.nodes)
    assert most < plan.peak  # the checkpoint's other components make the peak
    type_budget(qtbot, window.memory_bar.combo, f"{(most + plan.peak) // 2}B")
    label = window.memory_bar.estimate
    assert "over budget" in label.text() and theme.WARNING.name() in label.styleSheet()
    assert shown(window)[0] == parse_size(f"{plan.peak / 1e6:.1f}MB")  # what it asks for, not what it gets
    assert "evicted" in label.toolTip() and "VAE Decode" in label.toolTip()
    assert window.validate() == []
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton)  # the plan in a window, for a closer look
    details = window.memory_bar.details
    assert details is not None and details.isVisible() and not details.isModal()
    text = details.findChild(QLabel, "memory-plan-text")
    assert "VAE Decode" in text.text() and "evicted" in text.text()
    type_budget(qtbot, window.memory_bar.combo, "Auto")  # it follows changes while open
    assert "Fits in the budget" in text.text()
    details.close()


@needs_model
def test_a_budget_under_the_peak_that_offloading_meets_warns_and_still_passes(qtbot, tmp_path):
    """On CUDA weights can wait in RAM: a budget under the peak but over each node's own work is
    amber (slower, same pictures), not red. Planned for CUDA without one: the plan needs no torch."""
    from nodeflow.engine import Executor
    from nodeflow.gui.main_window import MainWindow

    registry = default_registry()
    window = MainWindow(registry, executor=Executor(registry, device="cuda"), output_dir=tmp_path / "out")
    window.files.ask_save_changes = lambda: "discard"
    qtbot.addWidget(window)
    plan = opened(qtbot, window)
    assert plan.device == "cuda"
    most = max(n.work for n in plan.nodes)
    assert most < plan.peak
    type_budget(qtbot, window.memory_bar.combo, f"{(most + plan.peak) // 2}B")
    label = window.memory_bar.estimate
    assert "over budget" in label.text() and theme.WARNING.name() in label.styleSheet()
    assert "offloaded" in label.toolTip() and "VAE Decode" in label.toolTip()
    assert window.validate() == []


@needs_model
def test_auto_shows_what_is_free(qtbot, full_window):
    window = full_window
    opened(qtbot, window)
    _, budget = shown(window)
    assert window.memory_bar.estimate.styleSheet() == ""
    assert abs(budget - psutil.virtual_memory().available) < 0.1 * budget  # free RAM on this CPU machine


def test_the_estimate_follows_a_finished_run_whose_results_the_cache_now_serves(qtbot, window):
    from .helpers import wait_done

    doc = window.document
    value = doc.add_node("basic.int", (0, 0), {"value": 5})
    show = doc.add_node("basic.show", (300, 0))
    doc.connect(value, "value", show, "value")
    qtbot.waitUntil(lambda: "<td>cached</td>" not in window.memory_bar.estimate.toolTip()
                    and f"<td>{value}</td>" in window.memory_bar.estimate.toolTip(), timeout=5000)
    window.run_workflow()
    wait_done(qtbot, window)
    # the next run is a new job: the value comes from the cache, the output node runs again
    tip = window.memory_bar.estimate.toolTip
    qtbot.waitUntil(lambda: f"<td>{value}</td><td>Integer</td><td>cached</td>" in tip(), timeout=5000)
    assert f"<td>{show}</td><td>Show Value</td><td>run</td>" in tip()


def test_an_invalid_graph_shows_a_dash_and_why(qtbot, window):
    window.document.add_node("basic.show", (0, 0))  # its value is not linked
    # The empty graph before the add shows a dash too (no output node): wait for the estimate of
    # the graph with the Show node, which names its unlinked input.
    qtbot.waitUntil(lambda: "value" in window.memory_bar.estimate.toolTip(), timeout=10000)
    assert window.memory_bar.estimate.text() == "Peak ≈ —"


def test_the_estimate_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys, time; from pathlib import Path; from PySide6.QtWidgets import QApplication;"
            "app = QApplication([]); from nodeflow.gui.main_window import MainWindow; w = MainWindow();"
            f"w.files.open(Path({str(TXT2IMG)!r})); w.show(); end = time.time() + 20\n"
            "while w.memory_bar.estimate.text() == 'Peak ≈ …' and time.time() < end: app.processEvents()\n"
            "print(w.memory_bar.estimate.text());"
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    estimate, modules = out.stdout.strip().splitlines()[-2:]
    assert estimate.startswith("Peak ≈ ") and estimate != "Peak ≈ …" and modules == "[]"


@pytest.fixture
def full_window(qtbot, tmp_path):
    with main_window(qtbot, default_registry(), tmp_path, size=(1280, 720)) as win:
        yield win
