"""On the canvas and in the inspector: the checkpoint row is a searchable list of the library's
models, and Load Image's mask row opens the mask editor over the node's picture."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF, Qt, QTimer

from nodeflow.core.masks import decode_mask
from nodeflow.gui.widgets.special_editors import MaskEditor, ModelEditor

from .helpers import paint_stroke_and_accept, vp


def click_row(qtbot, window, node_id: str, name: str) -> None:
    item = window.scene.nodes[node_id]
    row = next(r for r in item.layout.widgets if r.name == name)
    window.view.set_zoom(1.0)
    window.view.centerOn(item.mapToScene(QPointF(item.layout.width / 2, row.y)))
    point = item.mapToScene(QPointF(item.layout.width / 2, row.y + row.height / 2))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(window.view, point))


def test_checkpoint_row_opens_the_library_list(qtbot, full_window):
    doc = full_window.document
    ckpt = doc.add_node("models.load_checkpoint", (0, 0), {"checkpoint": "elsewhere"})
    click_row(qtbot, full_window, ckpt, "checkpoint")
    editor = full_window.scene.nodes[ckpt].widgets.editor
    assert editor is not None and isinstance(editor.widget(), ModelEditor)
    model_editor = editor.widget()
    assert "tiny-shapes" in model_editor.names()
    model_editor.combo.hidePopup()
    row = model_editor.names().index("tiny-shapes")
    model_editor.combo.setCurrentIndex(row)
    model_editor.combo.activated.emit(row)  # what clicking the entry in the list does
    assert doc.graph.nodes[ckpt].params["checkpoint"] == "tiny-shapes"
    assert full_window.scene.nodes[ckpt].widgets.editor is None  # closed after the choice


def test_mask_row_paints_over_the_picture_and_the_inspector_shows_it(qtbot, full_window, tmp_path):
    png = tmp_path / "pic.png"
    Image.new("RGB", (40, 30), "green").save(png)
    doc = full_window.document
    load = doc.add_node("image.load", (0, 0), {"image": str(png)})

    QTimer.singleShot(0, lambda: paint_stroke_and_accept(qtbot, (20, 15), (10, 15), (30, 15), brush=8,
                                                         image_size=(40, 30)))
    click_row(qtbot, full_window, load, "painted_mask")
    stored = doc.graph.nodes[load].params["painted_mask"]
    w, h, data = decode_mask(stored)
    mask = np.frombuffer(data, np.uint8).reshape(h, w)
    assert (w, h) == (40, 30) and mask[15, 10:31].min() == 255 and mask[2, 2] == 0
    full_window.scene.select_nodes([load])
    editor = full_window.inspector.editors["painted_mask"]
    assert isinstance(editor, MaskEditor) and "painted" in editor.summary.text()
    doc.undo.undo()
    assert doc.graph.nodes[load].params["painted_mask"] == ""


def test_inspector_checkpoint_is_the_model_list(qtbot, full_window):
    ckpt = full_window.document.add_node("models.load_checkpoint", (0, 0))
    full_window.scene.select_nodes([ckpt])
    editor = full_window.inspector.editors["checkpoint"]
    assert isinstance(editor, ModelEditor) and "tiny-shapes" in editor.names()
