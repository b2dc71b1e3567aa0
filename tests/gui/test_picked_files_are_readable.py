"""A picture the user drops on the canvas is theirs: validation lets the workflow read it wherever
it lies (`core.reads`), while the same name typed into a shared workflow stays refused."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from nodeflow.core import default_registry
from nodeflow.engine.plan import validate
from nodeflow.library import configure

from .helpers import main_window


def test_a_dropped_picture_outside_every_input_root_validates(qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv("NODEFLOW_ALLOW_READ", raising=False)
    configure()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    picture = elsewhere / "photo.png"
    Image.new("RGB", (16, 16), "red").save(picture)
    with main_window(qtbot, default_registry(), tmp_path / "home") as win:
        graph = win.document.graph
        load = graph.add_node("image.load", {"image": str(picture)}).id
        show = graph.add_node("image.preview").id
        graph.connect(load, "image", show, "images")
        refused = validate(graph, tmp_path / "shared")
        assert [(p.node_id, p.field) for p in refused] == [(load, "image")]
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(picture))])
        port, button, keys = win.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QApplication.sendEvent(port, QDragEnterEvent(QPoint(100, 100), Qt.DropAction.CopyAction, mime, button, keys))
        QApplication.sendEvent(port, QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, button, keys))
        assert validate(graph, tmp_path / "shared") == []
    configure()
