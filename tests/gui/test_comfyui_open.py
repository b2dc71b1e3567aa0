"""File > Open and drag-and-drop of ComfyUI files: imported untitled and unsaved, the report in the log."""

from __future__ import annotations

import json

from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

PROMPT = {
    "1": {"class_type": "PrimitiveInt", "inputs": {"value": 5}, "_meta": {"title": "Steps"}},
    "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    "3": {"class_type": "MysteryNode", "inputs": {"strength": 0.5, "value": ["1", 0]}},
}
UI = {"version": 0.4, "nodes": [
    {"id": 1, "type": "PrimitiveInt", "pos": [0, 0], "mode": 0, "outputs": [{"name": "INT", "links": [1]}],
     "widgets_values": [7, "increment"]},
    {"id": 2, "type": "PreviewAny", "pos": [300, 0], "mode": 0, "inputs": [{"name": "source", "link": 1}]},
    {"id": 3, "type": "MarkdownNote", "pos": [0, 200], "mode": 0, "widgets_values": ["# hello"]}],
    "links": [[1, 1, 0, 2, 0, "INT"]], "groups": []}


def test_file_open_imports_a_comfyui_prompt(window, tmp_path):
    path = tmp_path / "workflow_api.json"
    path.write_text(json.dumps(PROMPT), encoding="utf-8")
    assert window.files.open(path)
    graph = window.document.graph
    assert {i: r.type for i, r in graph.nodes.items()} == {"1": "basic.int", "2": "basic.show", "3": "MysteryNode"}
    assert graph.nodes["1"].params == {"value": 5} and graph.nodes["1"].ui["title"] == "Steps"
    assert graph.link_into("2", "value").src == "1"
    assert set(window.scene.nodes) == {"1", "2", "3"}  # the placeholder opens in the editor too
    assert window.document.path is None and window.document.dirty  # Save never overwrites the ComfyUI file
    log = window.run_panel.log.toPlainText()
    assert "imported ComfyUI API prompt" in log and "placeholder: node 3 (MysteryNode)" in log


def test_a_dropped_comfyui_png_opens(window, tmp_path):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("prompt", json.dumps(PROMPT))
    info.add_text("workflow", json.dumps(UI))
    png = tmp_path / "ComfyUI_00001_.png"
    Image.new("RGB", (8, 8)).save(png, pnginfo=info)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(png))])
    QApplication.sendEvent(window.view.viewport(), QDragEnterEvent(
        QPoint(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(window.view.viewport(), QDropEvent(
        QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    graph = window.document.graph
    assert {i: r.type for i, r in graph.nodes.items()} == {"1": "basic.int", "2": "basic.show", "3": "basic.note"}
    assert graph.nodes["1"].params == {"value": 7}  # the 'workflow' chunk wins over 'prompt'
    assert graph.nodes["1"].ui["seed_control"] == {"value": "increment"}
    assert graph.nodes["3"].params["text"] == "# hello"
    assert window.document.path is None
