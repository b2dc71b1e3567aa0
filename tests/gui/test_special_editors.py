"""The model combo lists the library and filters as you type; the mask parameter opens the editor."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QFileDialog

from nodeflow.core import default_registry
from nodeflow.core.masks import decode_mask
from nodeflow.gui.widgets.special_editors import MaskEditor, ModelEditor, library_models

from .helpers import paint_stroke_and_accept

CHECKPOINT = default_registry().get("models.load_checkpoint").input("checkpoint")
MASK_INPUT = default_registry().get("image.load").input("painted_mask")


def fake_library(kind):
    assert kind == "checkpoints"
    return [("tiny-shapes", "built-in"), ("sd15/v1-5.safetensors", "user folder"),
            ("sdxl/base-1.0.safetensors", "ComfyUI")]


def test_library_lists_the_builtin_checkpoint():
    assert "tiny-shapes" in [name for name, _ in library_models("checkpoints")]


def test_model_combo_lists_the_library_and_picks_by_name(qtbot):
    chosen = []
    editor = ModelEditor(CHECKPOINT, "tiny-shapes", chosen.append, lister=fake_library)
    qtbot.addWidget(editor)
    editor.show()
    assert editor.names() == ["tiny-shapes", "sd15/v1-5.safetensors", "sdxl/base-1.0.safetensors"]
    assert editor.combo.currentText() == "tiny-shapes" and chosen == []
    completer = editor.combo.completer()
    completer.setCompletionPrefix("BASE")  # any part of the name, any case
    assert completer.currentCompletion() == "sdxl/base-1.0.safetensors"
    editor.combo.lineEdit().setFocus()
    editor.combo.lineEdit().clear()
    qtbot.keyClicks(editor.combo.lineEdit(), "sd15/v1-5.safetensors")
    qtbot.keyClick(editor.combo.lineEdit(), Qt.Key.Key_Return)
    assert chosen[-1] == "sd15/v1-5.safetensors"


def test_model_browse_accepts_a_diffusers_folder(qtbot, tmp_path, monkeypatch):
    chosen = []
    editor = ModelEditor(CHECKPOINT, "tiny-shapes", chosen.append, lister=fake_library)
    qtbot.addWidget(editor)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    editor.browse_folder()
    assert chosen == [str(tmp_path)] and editor.combo.currentText() == str(tmp_path)


def test_mask_parameter_opens_the_editor_and_stores_what_was_painted(qtbot):
    picture = QImage(48, 32, QImage.Format.Format_RGB32)
    picture.fill(QColor("blue"))
    chosen = []
    editor = MaskEditor(MASK_INPUT, "", chosen.append, picture=lambda: picture)
    qtbot.addWidget(editor)
    editor.show()
    assert editor.summary.text() == "no mask painted" and not editor.clear_button.isEnabled()

    QTimer.singleShot(0, lambda: paint_stroke_and_accept(qtbot, (24, 16), (14, 16), (34, 16), brush=6))
    editor.open_editor()
    assert len(chosen) == 1
    w, h, data = decode_mask(chosen[0])
    mask = np.frombuffer(data, np.uint8).reshape(h, w)
    assert (w, h) == (48, 32) and mask[16, 14:35].min() == 255 and mask[2, 2] == 0
    editor.set_value(chosen[0])
    assert "painted" in editor.summary.text() and editor.clear_button.isEnabled()
    editor.clear_button.click()
    assert chosen[-1] == ""
