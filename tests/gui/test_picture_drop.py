"""A plain picture dropped on the canvas becomes a Load Image node showing it (one undo step);
a picture that carries a workflow still opens that workflow."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from nodeflow.core import default_registry
from nodeflow.gui.mask_editor.source import picture_inputs

from .helpers import main_window


@pytest.fixture
def builtin(qtbot, tmp_path):
    with main_window(qtbot, default_registry(), tmp_path) as win:
        yield win


def _drop(view, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    QApplication.sendEvent(view.viewport(), QDragEnterEvent(QPoint(100, 100), Qt.DropAction.CopyAction, mime,
                                                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(view.viewport(), QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime,
                                                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg"])
def test_a_plain_picture_dropped_on_the_canvas_becomes_a_load_image_node(qtbot, builtin, tmp_path, name):
    from PIL import Image

    picture = tmp_path / name
    Image.new("RGB", (16, 16), "red").save(picture)
    doc = builtin.document
    doc.add_node("basic.int", (0, 0))
    before = set(doc.graph.nodes)
    _drop(builtin.view, picture)
    (new,) = set(doc.graph.nodes) - before
    file_input, _mask = picture_inputs(doc.graph.node_class(new))
    assert doc.graph.nodes[new].params[file_input] == str(picture)
    assert doc.undo.undoText() == f"Load {name}"
    others = [builtin.scene.nodes[i].sceneBoundingRect() for i in before]
    assert not any(builtin.scene.nodes[new].sceneBoundingRect().intersects(r) for r in others)
    doc.undo.undo()
    assert set(doc.graph.nodes) == before


def test_nodes_added_from_the_palette_land_clear_of_each_other(qtbot, builtin):
    """Enter in the palette adds at the view's centre: the second, third... slide into free space."""
    palette = builtin.palette
    added = []
    for _ in range(3):
        palette.search.setText("VAE Decode")
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
        added.append(builtin.scene.selected_node_ids()[0])
    rects = [builtin.scene.nodes[i].sceneBoundingRect() for i in added]
    assert len(set(added)) == 3
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    visible = builtin.view.visible_scene_rect()
    assert all(visible.contains(r) for r in rects)


def test_load_image_preview_shows_the_painted_mask(qtbot, builtin, tmp_path):
    from PIL import Image

    from nodeflow.core.masks import encode_mask

    picture = tmp_path / "blue.png"
    Image.new("RGB", (32, 32), (0, 0, 255)).save(picture)
    doc = builtin.document
    _drop(builtin.view, picture)
    (node,) = doc.graph.nodes
    file_input, mask_input = picture_inputs(doc.graph.node_class(node))
    item = builtin.scene.nodes[node]
    plain = item.image.pixelColor(item.image.width() // 4, item.image.height() // 2)
    left_half = bytes((255 if x < 16 else 0) for _ in range(32) for x in range(32))
    doc.set_param(node, mask_input, encode_mask(32, 32, left_half))
    image = item.image
    painted = image.pixelColor(image.width() // 4, image.height() // 2)
    untouched = image.pixelColor(image.width() * 3 // 4, image.height() // 2)
    assert plain.red() < 20 and painted.red() > 100  # tinted where the mask repaints
    assert untouched.red() < 20 and untouched.blue() > 200
