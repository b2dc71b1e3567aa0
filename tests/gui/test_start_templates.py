"""The Start panel shows each example with a thumbnail of its layout and a line of description,
and the official ComfyUI templates (when their package is installed), opened through the importer."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from nodeflow.gui.comfy_templates import comfyui_templates
from nodeflow.gui.start_panel import StartPanel, example_workflows


def test_examples_have_a_thumbnail_and_a_line(qtbot):
    panel = StartPanel()
    qtbot.addWidget(panel)
    assert panel.examples.count() == len(example_workflows())
    for row in range(panel.examples.count()):
        item = panel.examples.item(row)
        name, _, line = item.text().partition("\n")
        assert name and line, item.text()
        image = item.icon().pixmap(64, 40).toImage()
        colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 2)
                   for y in range(0, image.height(), 2)}
        assert len(colours) >= 3, name  # the background and at least two node categories


def test_a_comfyui_template_opens_through_the_importer(qtbot, window):
    if not comfyui_templates():
        pytest.skip("the ComfyUI templates package is not installed")
    panel = window.start_panel
    window.start.show()
    bar = panel.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    qtbot.waitUntil(panel.templates.isVisible, timeout=3000)
    panel.template_filter.setText("sdxl")
    items = [panel.templates.item(r) for r in range(panel.templates.count())]
    shown = [item for item in items if not item.isHidden()]
    assert shown and all("sdxl" in f"{i.text()} {i.toolTip()}".lower() for i in shown)
    panel.templates.scrollToItem(shown[0])
    rect = panel.templates.visualItemRect(shown[0])
    qtbot.mouseClick(panel.templates.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.document.source is not None and window.document.source.name.endswith(".json")
    assert window.document.path is None and window.document.graph.nodes  # imported, untitled
