"""Smaller editor fixes (issue 21, item 9): an all-cached estimate says so and what a fresh run
needs, the compare caption goes with Compare, and opening a workflow clears the Output history."""

from __future__ import annotations

import re

from nodeflow.core import workflow
from nodeflow.gui.outputs.entries import OutputImage

from .helpers import wait_done
from .test_outputs import solid


def test_after_a_run_the_estimate_says_cached_and_what_a_fresh_run_peaks_at(qtbot, window):
    window.document.add_node("test.swatch", (0, 0), {"size": 64})
    qtbot.waitUntil(lambda: bool(re.match(r"Peak ≈ [\d.]+ [KMGT]?B of", window.memory_bar.estimate.text())),
                    timeout=5000)
    fresh = window.memory_bar.estimate.text().removeprefix("Peak ≈ ").split(" of ")[0]
    window.run_workflow()
    wait_done(qtbot, window)
    qtbot.waitUntil(lambda: window.memory_bar.estimate.text().startswith("Cached"), timeout=5000)
    expected = "Cached" + (f"; a fresh run peaks at ≈ {fresh}" if fresh != "0 B" else "")
    assert window.memory_bar.estimate.text() == expected  # never "Peak ≈ 0 B"
    assert "<td>cached</td>" in window.memory_bar.estimate.toolTip()


def test_turning_compare_off_puts_back_the_caption_of_the_image_shown(qtbot, window):
    viewer = window.output_viewer
    viewer.add_images([OutputImage(solid("red"), "1"), OutputImage(solid("blue"), "2")])
    single = viewer.info.text()
    viewer.compare_rows(0, 1)
    assert viewer.info.text().startswith("A: ")
    viewer.buttons["compare"].trigger()  # off
    assert viewer.stack.currentWidget() is viewer.single
    assert not viewer.info.text().startswith("A: ") and viewer.info.text() != ""
    assert viewer.info.text() in (single, viewer.current().describe()) or viewer.info.text().startswith(
        viewer.current().describe())


def test_opening_a_workflow_clears_the_output_history(qtbot, window, tmp_path):
    window.output_viewer.add_images([OutputImage(solid("red"), "1")])
    path = tmp_path / "other.json"
    path.write_text(workflow.dumps(window.document.graph))
    assert window.files.open(path, confirm=False)
    assert window.output_viewer.entries == [] and window.output_viewer.strip.count() == 0
