"""Qt editors for one parameter, generated from its `Input` declaration (used by the inspector).

Each editor calls `on_change(value)` when the user changes it and has `set_value(value)` to follow
the graph without echoing the change back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from nodeflow.core.spec import Input
from nodeflow.core.types import SEED_MAX
from nodeflow.gui.widgets import values
from nodeflow.gui.widgets.seed_control import SEED_MODES
from nodeflow.library import allow_read

INT32 = 2**31 - 1
SLIDER_STEPS = 1000


class ParamEditor(QWidget):
    def __init__(self, inp: Input, value: Any, on_change: Callable[[Any], None], parent=None):
        super().__init__(parent)
        self.inp = inp
        self.on_change = on_change
        self._quiet = False
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.build()
        self.set_value(value)

    def build(self) -> None:
        raise NotImplementedError

    def show_value(self, value: Any) -> None:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        self._quiet = True
        try:
            self.show_value(value)
        finally:
            self._quiet = False

    def emit(self, value: Any) -> None:
        if not self._quiet:
            self.on_change(value)


class IntEditor(ParamEditor):
    def build(self) -> None:
        lo = int(self.inp.min) if self.inp.min is not None else -INT32
        hi = int(self.inp.max) if self.inp.max is not None else INT32
        self.spin = QSpinBox()
        self.spin.setRange(max(lo, -INT32), min(hi, INT32))
        self.spin.setSingleStep(int(self.inp.step or 1))
        self.spin.valueChanged.connect(self.emit)
        self.layout_.addWidget(self.spin)

    def show_value(self, value: Any) -> None:
        self.spin.setValue(int(value or 0))


class SeedEditor(ParamEditor):
    """A seed: any 64-bit value, a dice button, and what happens to it after each run."""

    def __init__(self, inp: Input, value: Any, on_change, mode: str = "fixed",
                 on_mode: Callable[[str], None] | None = None, parent=None):
        self._mode, self._on_mode = mode, on_mode
        super().__init__(inp, value, on_change, parent)

    def build(self) -> None:
        self.edit = QLineEdit()
        self.edit.setValidator(QRegularExpressionValidator(QRegularExpression(rf"\d{{1,{len(str(SEED_MAX))}}}")))
        self.edit.editingFinished.connect(lambda: self.emit(int(self.edit.text() or 0)))
        dice = QPushButton("Rnd")
        dice.setToolTip("New random seed")
        dice.setFixedWidth(40)
        dice.clicked.connect(lambda: self.emit(random.randint(0, 2**32 - 1)))
        self.mode = QComboBox()
        self.mode.addItems(SEED_MODES)
        self.mode.setCurrentText(self._mode)
        self.mode.setToolTip("What happens to the seed after each run")
        self.mode.currentTextChanged.connect(lambda m: self._on_mode and self._on_mode(m))
        self.layout_.addWidget(self.edit, 1)
        self.layout_.addWidget(dice)
        self.layout_.addWidget(self.mode)

    def show_value(self, value: Any) -> None:
        self.edit.setText(str(value if value is not None else 0))

    def set_mode(self, mode: str) -> None:
        """Follow the graph's seed mode without calling `on_mode` back."""
        self.mode.blockSignals(True)
        self.mode.setCurrentText(mode)
        self.mode.blockSignals(False)


class FloatEditor(ParamEditor):
    def build(self) -> None:
        self.spin = QDoubleSpinBox()
        self.spin.setRange(self.inp.min if self.inp.min is not None else -1e12,
                           self.inp.max if self.inp.max is not None else 1e12)
        step = values.step_of(self.inp)
        self.spin.setSingleStep(step)
        self.spin.setDecimals(max(2, len(f"{step:g}".split(".")[1]) if "." in f"{step:g}" else 2))
        self.spin.valueChanged.connect(self.emit)
        self.slider: QSlider | None = None
        if values.is_slider(self.inp):
            self.slider = QSlider(Qt.Orientation.Horizontal)
            self.slider.setRange(0, SLIDER_STEPS)
            self.slider.valueChanged.connect(
                lambda v: self.emit(values.from_fraction(self.inp, v / SLIDER_STEPS)))
            self.layout_.addWidget(self.slider, 1)
        self.layout_.addWidget(self.spin)

    def show_value(self, value: Any) -> None:
        value = float(value or 0.0)
        self.spin.setValue(value)
        if self.slider is not None:
            self.slider.setValue(round(values.slider_fraction(self.inp, value) * SLIDER_STEPS))


class ChoiceEditor(ParamEditor):
    def build(self) -> None:
        self.combo = QComboBox()
        self.combo.addItems(list(self.inp.choices or ()))
        self.combo.currentTextChanged.connect(self.emit)
        self.layout_.addWidget(self.combo)

    def show_value(self, value: Any) -> None:
        self.combo.setCurrentText(str(value))


class BoolEditor(ParamEditor):
    def build(self) -> None:
        self.check = QCheckBox()
        self.check.toggled.connect(self.emit)
        self.layout_.addWidget(self.check)

    def show_value(self, value: Any) -> None:
        self.check.setChecked(bool(value))


class TextEditor(ParamEditor):
    def build(self) -> None:
        self.text = QPlainTextEdit()
        self.text.setMinimumHeight(80)
        self.text.textChanged.connect(lambda: self.emit(self.text.toPlainText()))
        self.layout_.addWidget(self.text)

    def show_value(self, value: Any) -> None:
        if self.text.toPlainText() != str(value or ""):
            self.text.setPlainText(str(value or ""))


class LineEditor(ParamEditor):
    def build(self) -> None:
        self.edit = QLineEdit()
        self.edit.editingFinished.connect(lambda: self.emit(self.edit.text()))
        self.layout_.addWidget(self.edit, 1)
        if self.inp.file:
            pick = QPushButton("…")
            pick.setFixedWidth(30)
            pick.setToolTip(f"Choose a {self.inp.file}")
            pick.clicked.connect(self._pick)
            self.layout_.addWidget(pick)

    def _pick(self) -> None:
        if self.inp.file == "folder":
            path = QFileDialog.getExistingDirectory(self, f"Choose {self.inp.name}", self.edit.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, f"Choose {self.inp.name}", self.edit.text())
        if path:
            allow_read(Path(path))  # the user's own pick may be read wherever it is (core.reads)
            self.edit.setText(path)
            self.emit(path)

    def show_value(self, value: Any) -> None:
        self.edit.setText(str(value or ""))


def make_editor(inp: Input, value: Any, on_change: Callable[[Any], None], **seed_options) -> ParamEditor:
    """The editor a parameter's declaration asks for."""
    if inp.seed:
        return SeedEditor(inp, value, on_change, **seed_options)
    if inp.choices is not None:
        return ChoiceEditor(inp, value, on_change)
    if inp.type == "BOOLEAN":
        return BoolEditor(inp, value, on_change)
    if inp.type == "INT":
        return IntEditor(inp, value, on_change)
    if inp.type == "FLOAT":
        return FloatEditor(inp, value, on_change)
    if inp.multiline:
        return TextEditor(inp, value, on_change)
    return LineEditor(inp, value, on_change)
