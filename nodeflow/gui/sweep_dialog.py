"""The sweep dialog: the same `NODE.INPUT=SPEC` sweeps as `nodeflow run --sweep`, as a small form.

Each row is a parameter and its values (`a,b,c`, `lo..hi` or `@file`); the dialog expands them
with `nodeflow.jobs.sweep` against the current graph and refuses to close while a row is wrong,
showing that row's one-line error.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

from nodeflow.core.errors import NodeFlowError
from nodeflow.core.graph import Graph
from nodeflow.jobs.sweep import JobSpec, expand, parse_sweep

ROWS = 3


class SweepDialog(QDialog):
    def __init__(self, graph: Graph, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Sweep")
        self.graph = graph
        self.jobs: list[JobSpec] = []
        self.targets = [QLineEdit() for _ in range(ROWS)]
        self.specs = [QLineEdit() for _ in range(ROWS)]
        form = QFormLayout()
        for index, (target, spec) in enumerate(zip(self.targets, self.specs, strict=True)):
            target.setPlaceholderText("node.input, e.g. 5.seed")
            spec.setPlaceholderText("1..8  or  a,b,c  or  @values.txt")
            form.addRow(f"Parameter {index + 1}", target)
            form.addRow("Values", spec)
        self.zip_box = QCheckBox("Pair values one to one (zip) instead of every combination")
        self.repeat = QSpinBox()
        self.repeat.setRange(1, 1000)
        form.addRow("Repeat each", self.repeat)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #d05050")
        self.error.setWordWrap(True)
        self.count = QLabel("")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.zip_box)
        layout.addWidget(self.count)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        for edit in self.targets + self.specs:
            edit.textChanged.connect(self._update)
        self.zip_box.toggled.connect(self._update)
        self.repeat.valueChanged.connect(self._update)
        self._update()

    def options(self) -> list[str]:
        return [f"{t.text().strip()}={s.text().strip()}" for t, s in zip(self.targets, self.specs, strict=True)
                if t.text().strip() or s.text().strip()]

    def _update(self) -> None:
        try:
            sweeps = [parse_sweep(option) for option in self.options()]
            self.jobs = expand([self.graph], sweeps, zip_sweeps=self.zip_box.isChecked(), repeat=self.repeat.value())
        except NodeFlowError as exc:
            self.jobs = []
            self.error.setText(str(exc))
        else:
            self.error.setText("")
        self.count.setText(f"{len(self.jobs)} jobs" if self.jobs else "")
        self.ok_button.setEnabled(bool(self.jobs) and bool(self.options()))
