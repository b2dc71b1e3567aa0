"""The output viewer's actions on real widgets: info line, zoom, compare divider, copy, save as,
reveal, drag-out data, send to Load Image, the output folder setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QImage

from nodeflow.core import Graph, default_registry
from nodeflow.core.files import PNG_WORKFLOW_KEY
from nodeflow.gui.outputs import actions
from nodeflow.gui.outputs.entries import OutputImage, upstream_seeds
from nodeflow.gui.outputs.viewer import OutputViewer

from .helpers import paint_stroke_and_accept


def solid(color: str, w: int = 40, h: int = 30) -> QImage:
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    return image


@pytest.fixture
def saved_png(tmp_path) -> Path:
    from PIL.PngImagePlugin import PngInfo

    path = tmp_path / "out" / "shot_00001.png"
    path.parent.mkdir()
    info = PngInfo()
    info.add_text(PNG_WORKFLOW_KEY, '{"format": "nodeflow-workflow"}')
    Image.new("RGB", (40, 30), "red").save(path, pnginfo=info)
    return path


@pytest.fixture
def viewer(qtbot, tmp_path, saved_png):
    view = OutputViewer(tmp_path / "out")
    qtbot.addWidget(view)
    view.resize(600, 500)
    with qtbot.waitExposed(view):
        view.show()
    view.add_images([OutputImage(solid("red"), "9", saved_png, (42,)),
                     OutputImage(solid("blue"), "12", None, (7, 8))])
    return view


def test_info_line_names_file_size_seed_and_node(viewer, saved_png):
    viewer.strip.setCurrentRow(0)
    text = viewer.info.text()
    assert "shot_00001.png" in text and "40×30" in text and "seed 42" in text and "node 9" in text
    assert str(saved_png.parent) in text
    viewer.strip.setCurrentRow(1)
    assert "preview (not saved)" in viewer.info.text() and "seed 7, 8" in viewer.info.text()
    assert not viewer.buttons["reveal"].isEnabled()  # nothing to reveal for a preview
    assert viewer.folder_label.text() == str(saved_png.parent)


def test_fit_and_actual_size(viewer):
    viewer.buttons["actual"].trigger()
    assert viewer.single.zoom() == pytest.approx(1.0)
    viewer.buttons["fit"].trigger()
    assert viewer.single.zoom() > 5  # a 40x30 image fitted into a ~600 px view


def test_compare_two_selected_images_with_a_dragged_divider(qtbot, viewer):
    viewer.compare_rows(0, 1)
    assert viewer.stack.currentWidget() is viewer.compare
    compare = viewer.compare
    rect = compare.picture_rect()
    y = int(rect.center().y())
    qtbot.mousePress(compare, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.left() + rect.width() * 0.5), y))
    qtbot.mouseMove(compare, QPoint(int(rect.left() + rect.width() * 0.25), y))
    qtbot.mouseRelease(compare, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.left() + rect.width() * 0.25), y))
    assert compare.split == pytest.approx(0.25, abs=0.02)
    shot = compare.grab().toImage()
    ratio = shot.width() / compare.width()
    left = shot.pixelColor(int((rect.left() + rect.width() * 0.1) * ratio), int((rect.top() + 20) * ratio))
    right = shot.pixelColor(int((rect.left() + rect.width() * 0.6) * ratio), int((rect.top() + 20) * ratio))
    assert left.red() > 200 and left.blue() < 60  # A (red) left of the divider
    assert right.blue() > 200 and right.red() < 60  # B (blue) right of it
    viewer.buttons["compare"].trigger()  # off again
    assert viewer.stack.currentWidget() is viewer.single


def test_copy_puts_the_pixels_and_the_file_on_the_clipboard(viewer, saved_png):
    viewer.strip.setCurrentRow(0)
    viewer.buttons["copy"].trigger()
    data = QGuiApplication.clipboard().mimeData()
    assert data.hasImage() and QImage(data.imageData()).pixelColor(5, 5) == QColor("red")
    assert [u.toLocalFile() for u in data.urls()] == [str(saved_png)]


def test_save_as_copies_a_saved_png_with_its_workflow_and_encodes_a_preview(viewer, tmp_path):
    viewer.strip.setCurrentRow(0)
    target = viewer.save_current_as(tmp_path / "elsewhere" / "keep.png")
    assert Image.open(target).text[PNG_WORKFLOW_KEY]
    viewer.strip.setCurrentRow(1)
    target = viewer.save_current_as(tmp_path / "elsewhere" / "preview.jpg")
    assert Image.open(target).format == "JPEG"


def test_reveal_and_open_folder_ask_the_desktop(viewer, saved_png, monkeypatch):
    opened, started = [], []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    monkeypatch.setattr(actions.QProcess, "startDetached", lambda cmd, args: started.append([cmd, *args]) or (True, 1))
    viewer.strip.setCurrentRow(0)
    viewer.buttons["reveal"].trigger()
    command = actions.reveal_command(saved_png)
    if command is not None:
        assert started == [command] and QUrl.fromLocalFile(str(saved_png)).toString() in " ".join(command)
    else:
        assert opened == [str(saved_png.parent)]
    actions.open_folder(saved_png.parent)
    assert opened[-1] == str(saved_png.parent)


def test_reveal_command_per_platform(tmp_path):
    target = tmp_path / "a.png"
    assert actions.reveal_command(target, "win32") == ["explorer", f"/select,{target}"]
    assert actions.reveal_command(target, "darwin") == ["open", "-R", str(target)]


def test_drag_out_data_carries_the_file_and_the_pixels(viewer, saved_png):
    data = viewer.strip.mimeData([viewer.strip.item(0)])
    assert [u.toLocalFile() for u in data.urls()] == [str(saved_png)]
    assert data.hasImage()
    preview = viewer.strip.mimeData([viewer.strip.item(1)])
    assert not preview.hasUrls() and preview.hasImage()


def test_send_to_load_image_saves_a_preview_into_the_output_folder_first(qtbot, viewer, saved_png):
    viewer.strip.setCurrentRow(0)
    with qtbot.waitSignal(viewer.send_to_load_image) as sent:
        viewer.buttons["send"].trigger()
    assert sent.args == [saved_png, ""]
    viewer.strip.setCurrentRow(1)
    with qtbot.waitSignal(viewer.send_to_load_image) as sent:
        viewer.buttons["send"].trigger()
    path = sent.args[0]
    assert path.parent == saved_png.parent and path.name == "preview_00001.png"
    assert Image.open(path).getpixel((3, 3)) == (0, 0, 255)


def test_output_folder_is_a_visible_setting(qtbot, viewer, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "renders"))
    with qtbot.waitSignal(viewer.output_dir_changed) as changed:
        viewer.choose_output_dir()
    assert changed.args == [tmp_path / "renders"]
    assert viewer.folder_label.text() == str(tmp_path / "renders")


def test_clear_forgets_everything(viewer):
    viewer.clear()
    assert viewer.strip.count() == 0 and viewer.entries == [] and viewer.info.text() == "No images yet"
    assert not viewer.buttons["copy"].isEnabled()


def test_upstream_seeds_lists_set_seeds_feeding_the_output():
    graph = Graph(default_registry())
    noise = graph.add_node("noise.random", {"seed": 5}).id
    other = graph.add_node("noise.random", {"seed": 99}).id
    sampler = graph.add_node("sampling.sampler", {"seed": 11}).id
    decode = graph.add_node("vae.decode").id
    graph.connect(sampler, "latent", decode, "latent")
    assert upstream_seeds(graph, decode) == (11,)
    assert upstream_seeds(graph, noise) == (5,)
    assert upstream_seeds(graph, other) == (99,)


def test_window_sends_an_output_to_a_new_load_image_with_its_mask(qtbot, tmp_path, saved_png):
    from nodeflow.core.masks import encode_mask
    from nodeflow.engine import Executor
    from nodeflow.gui.main_window import MainWindow

    window = MainWindow(default_registry(), executor=Executor(default_registry(), device="cpu"),
                        output_dir=tmp_path / "out")
    window.files.ask_save_changes = lambda: "discard"
    qtbot.addWidget(window)
    mask = encode_mask(40, 30, bytes([255]) * 1200)
    node_id = window.send_to_load_image(saved_png, mask)
    record = window.document.graph.nodes[node_id]
    assert record.type == "image.load"
    assert record.params["image"] == str(saved_png) and record.params["painted_mask"] == mask
    window.document.undo.undo()  # one step
    assert node_id not in window.document.graph.nodes
    window.runner.shutdown()


def test_paint_mask_on_an_output_sends_image_and_mask(qtbot, viewer, saved_png):
    from PySide6.QtCore import QTimer

    from nodeflow.core.masks import decode_mask

    viewer.strip.setCurrentRow(0)
    QTimer.singleShot(0, lambda: paint_stroke_and_accept(qtbot, (20, 15), (20, 15), (20, 15), brush=6))
    with qtbot.waitSignal(viewer.send_to_load_image) as sent:
        viewer.buttons["mask"].trigger()
    path, mask = sent.args
    w, h, data = decode_mask(mask)
    assert path == saved_png and (w, h) == (40, 30) and data[15 * 40 + 20] == 255 and data[0] == 0
