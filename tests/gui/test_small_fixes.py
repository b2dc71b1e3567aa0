"""Smaller editor fixes (issue 21, item 9): the compare caption goes with Compare, and opening a
workflow clears the Output history."""

from __future__ import annotations

from nodeflow.core import workflow
from nodeflow.gui.outputs.entries import OutputImage

from .test_outputs import solid


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
