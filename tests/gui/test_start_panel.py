"""The start panel lists the examples (with their descriptions) and recent files and says what was picked."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from nodeflow.gui.start_panel import DEFAULT_EXAMPLE, StartPanel, example_workflows


def test_examples_carry_their_description_and_the_default_exists():
    found = {name: description for _, name, description in example_workflows()}
    assert "txt2img" in found and "inpaint" in found
    assert "mask" in found["inpaint"]
    assert DEFAULT_EXAMPLE.is_file()


def test_clicks_emit_the_choice(qtbot, tmp_path):
    panel = StartPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_recent([str(tmp_path / "mine.json")])
    assert panel.recent.count() == 1 and panel.no_recent.isHidden()
    with qtbot.waitSignal(panel.open_file) as picked:
        rect = panel.recent.visualItemRect(panel.recent.item(0))
        qtbot.mouseClick(panel.recent.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert picked.args == [tmp_path / "mine.json"]
    row = [panel.examples.item(r).text().split("\n")[0] for r in range(panel.examples.count())].index("inpaint")
    with qtbot.waitSignal(panel.open_example) as picked:
        rect = panel.examples.visualItemRect(panel.examples.item(row))
        qtbot.mouseClick(panel.examples.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert Path(picked.args[0]).name == "inpaint.json"
    panel.set_recent([])
    assert not panel.no_recent.isHidden()
