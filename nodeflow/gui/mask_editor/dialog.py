"""The mask editor window: tools, brush settings and OK/Cancel around a `MaskView`.

It edits a copy: the mask reaches the workflow only through `stored_mask()` after OK, as one
parameter change the main window's undo stack records. Inside the editor, Ctrl+Z undoes strokes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nodeflow.core.masks import decode_mask, encode_mask
from nodeflow.gui.mask_editor.view import MaskView, Tool

MAX_BRUSH = 1024


def mask_array(stored: str, width: int, height: int) -> np.ndarray | None:
    """The stored mask as an array the picture's size (stretched if the picture changed), or None."""
    if not stored:
        return None
    mw, mh, data = decode_mask(stored)
    grey = QImage(data, mw, mh, mw, QImage.Format.Format_Grayscale8)
    if (mw, mh) != (width, height):
        grey = grey.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)
    return _grey_to_array(grey)


def alpha_mask(image: QImage) -> np.ndarray | None:
    """The picture's transparency as a mask (transparent = repaint), or None when it has none."""
    if not image.hasAlphaChannel():
        return None
    alpha = image.convertToFormat(QImage.Format.Format_Alpha8)
    mask = 255 - _grey_to_array(alpha)
    return mask if mask.any() else None


def _grey_to_array(image: QImage) -> np.ndarray:
    w, h = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h).reshape(h, -1)
    return rows[:, :w].copy()


class MaskEditorDialog(QDialog):
    def __init__(self, image: QImage, stored: str = "", title: str = "Mask editor", parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        initial = mask_array(stored, image.width(), image.height())
        self._alpha = alpha_mask(image)
        if initial is None:
            initial = self._alpha
        self.view = MaskView(image, initial)
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.tools = QButtonGroup(self)
        bar = QHBoxLayout()
        for tool, label, key, tip in (
            (Tool.BRUSH, "Brush", "B", "Paint the area to repaint"),
            (Tool.ERASER, "Eraser", "E", "Remove paint"),
            (Tool.FILL, "Fill", "G", "Fill the enclosed area you click"),
        ):
            button = QToolButton(text=label, checkable=True, toolTip=f"{tip} ({key})")
            button.setShortcut(QKeySequence(key))
            button.setProperty("tool", tool.value)
            self.tools.addButton(button)
            bar.addWidget(button)
            if tool is Tool.BRUSH:
                button.setChecked(True)
        self.tools.buttonToggled.connect(self._tool_toggled)
        self.size = QSpinBox(minimum=1, maximum=MAX_BRUSH, suffix=" px", toolTip="Brush diameter ([ and ])")
        self.size.setValue(round(self.view.radius * 2))
        self.size.valueChanged.connect(lambda v: setattr(self.view, "radius", v / 2))
        self.hardness = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, toolTip="Edge hardness")
        self.hardness.setValue(round(self.view.hardness * 100))
        self.hardness.setFixedWidth(90)
        self.hardness.valueChanged.connect(lambda v: setattr(self.view, "hardness", v / 100))
        self.opacity = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, toolTip="Overlay opacity")
        self.opacity.setValue(round(self.view.opacity * 100))
        self.opacity.setFixedWidth(70)
        self.opacity.valueChanged.connect(lambda v: self.view.set_opacity(v / 100))
        for label, widget in (("Size", self.size), ("Hardness", self.hardness), ("Overlay", self.opacity)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addStretch(1)
        for text, slot, tip in (("Clear", self.view.clear, "Remove the whole mask"),
                                ("Invert", self.view.invert, "Swap painted and unpainted"),
                                ("Fit", self.view.fit, "Show the whole picture (Ctrl+0)"),
                                ("1:1", lambda: self.view.set_zoom(1.0), "Actual pixels (Ctrl+1)")):
            button = QPushButton(text, toolTip=tip)
            button.setAutoDefault(False)
            button.clicked.connect(slot)
            bar.addWidget(button)
        self.undo_action = self.view.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.view.undo_stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
        self.addActions([self.undo_action, self.redo_action])
        QShortcut(QKeySequence("Ctrl+0"), self, activated=self.view.fit)
        QShortcut(QKeySequence("Ctrl+1"), self, activated=lambda: self.view.set_zoom(1.0))
        QShortcut(QKeySequence("["), self, activated=lambda: self.size.setValue(round(self.size.value() / 1.25)))
        QShortcut(QKeySequence("]"), self, activated=lambda: self.size.setValue(round(self.size.value() * 1.25) + 1))
        self.info = QLabel()
        self.view.mask_changed.connect(self._show_info)
        self.view.zoom_changed.connect(self._show_info)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        footer = QHBoxLayout()
        footer.addWidget(QLabel("Left drag: paint · Middle drag or Space+drag: pan · Wheel: zoom"))
        footer.addStretch(1)
        footer.addWidget(self.info)
        footer.addWidget(buttons)
        layout = QVBoxLayout(self)
        top = QWidget()
        top.setLayout(bar)
        layout.addWidget(top)
        layout.addWidget(self.view, 1)
        layout.addLayout(footer)
        self.resize(900, 700)
        self._show_info()

    def _tool_toggled(self, button, checked: bool) -> None:
        if checked:
            self.view.tool = Tool(button.property("tool"))

    def set_tool(self, tool: Tool) -> None:
        next(b for b in self.tools.buttons() if b.property("tool") == tool.value).setChecked(True)

    def _show_info(self, *_args) -> None:
        covered = float(np.count_nonzero(self.view.mask >= 128)) / max(1, self.view.mask.size)
        self.info.setText(f"{covered:.0%} masked · zoom {self.view.zoom():.0%}")

    def stored_mask(self) -> str:
        """The mask in its workflow form; "" when nothing is painted (the picture's alpha is used).

        A picture with transparency whose mask was cleared stores the empty mask explicitly, since
        "" would bring the alpha mask back.
        """
        if not self.view.mask.any() and self._alpha is None:
            return ""
        h, w = self.view.mask.shape
        return encode_mask(w, h, self.view.mask.tobytes())


def edit_mask(image: QImage | None, stored: str, title: str, parent=None) -> str | None:
    """Open the editor over `image` starting from `stored`; the new stored mask after OK, else None."""
    if image is None or image.isNull():
        return None
    dialog = MaskEditorDialog(image, stored, title=title, parent=parent)
    return dialog.stored_mask() if dialog.exec() else None
