"""Parameter editors for values that are more than text: models from the library, painted masks.

`ModelEditor` is a searchable list (type any part of a name) of the models of the input's kind,
fed by the model library, with browse buttons for a file or a diffusers folder elsewhere.
`MaskEditor` opens the mask editor over the node's picture and stores the result as the value.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QCompleter, QFileDialog, QLabel, QMenu, QPushButton, QToolButton

from nodeflow.core.masks import mask_summary
from nodeflow.gui.mask_editor.dialog import edit_mask
from nodeflow.gui.widgets.editors import ParamEditor
from nodeflow.library import allow_read

#: (name, where it is) of every model of a kind: what the combo lists.
ModelLister = Callable[[str], list[tuple[str, str]]]


def library_models(kind: str) -> list[tuple[str, str]]:
    """The model library's models of `kind`, as (name, "source: path")."""
    from nodeflow.library import default_library

    return [(e.name, f"{e.source}: {e.path}") for e in default_library().scan(kind)]


class ModelEditor(ParamEditor):
    def __init__(self, inp, value, on_change, lister: ModelLister = library_models, parent=None):
        self._lister = lister
        super().__init__(inp, value, on_change, parent)

    def build(self) -> None:
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumContentsLength(12)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        completer = QCompleter(self.combo.model(), self.combo)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.combo.setCompleter(completer)
        self.combo.activated.connect(lambda _i: self.emit(self.combo.currentText()))
        self.combo.lineEdit().editingFinished.connect(self._typed)
        browse = QToolButton(text="…", toolTip="Choose a model file or folder elsewhere")
        browse.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(browse)
        menu.addAction("Model file…", self.browse_file)
        menu.addAction("Diffusers folder…", self.browse_folder)
        menu.addSeparator()
        menu.addAction("Refresh list", self.refresh)
        browse.setMenu(menu)
        self.layout_.addWidget(self.combo, 1)
        self.layout_.addWidget(browse)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the library (after models were added to a folder)."""
        text = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        try:
            models = self._lister(self.inp.model or "checkpoints")
        except OSError as exc:
            models = []
            self.combo.setToolTip(f"the model library could not be read: {exc}")
        for name, where in models:
            self.combo.addItem(name)
            self.combo.setItemData(self.combo.count() - 1, where, Qt.ItemDataRole.ToolTipRole)
        self.combo.setEditText(text)
        self.combo.blockSignals(False)

    def names(self) -> list[str]:
        return [self.combo.itemText(i) for i in range(self.combo.count())]

    def _typed(self) -> None:
        text = self.combo.currentText().strip()
        if text and text != self._shown:
            self.emit(text)

    def browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Choose {self.inp.name}", "",
                                              "Model weights (*.safetensors *.ckpt *.pt *.pth *.bin *.gguf)")
        if path:
            allow_read(Path(path))  # the user's own pick may be read wherever it is (core.reads)
            self.set_value(path)
            self.emit(path)

    def browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, f"Choose a diffusers folder for {self.inp.name}")
        if path:
            allow_read(Path(path))
            self.set_value(path)
            self.emit(path)

    def show_value(self, value: Any) -> None:
        self._shown = str(value or "")
        self.combo.setEditText(self._shown)

    def emit(self, value: Any) -> None:
        self._shown = str(value)
        super().emit(value)


class MaskEditor(ParamEditor):
    """A 'Paint mask…' button and what is painted; the picture comes from `picture()`."""

    def __init__(self, inp, value, on_change, picture: Callable[[], QImage | None], parent=None):
        self._picture = picture
        super().__init__(inp, value, on_change, parent)

    def build(self) -> None:
        self.summary = QLabel()
        paint = QPushButton("Paint mask…", toolTip="Open the mask editor over this node's picture")
        paint.clicked.connect(self.open_editor)
        self.clear_button = QPushButton("Clear", toolTip="Remove the painted mask")
        self.clear_button.clicked.connect(lambda: self.emit(""))
        self.layout_.addWidget(paint)
        self.layout_.addWidget(self.clear_button)
        self.layout_.addWidget(self.summary, 1)

    def show_value(self, value: Any) -> None:
        self._value = str(value or "")
        self.clear_button.setEnabled(bool(self._value))
        self.summary.setText(mask_summary(self._value))

    def open_editor(self) -> str | None:
        """Open the editor; on OK the painted mask becomes the value (one undo step)."""
        image = self._picture()
        if image is None or image.isNull():
            self.summary.setText("choose a picture first")
            return None
        stored = edit_mask(image, self._value, "Mask editor", parent=self.window())
        if stored is not None and stored != self._value:
            self.emit(stored)
        return stored
