"""The sweep dialog: the same `NODE.INPUT=SPEC` sweeps as `nodeflow run --sweep`, as a small form.

Each row is a parameter (picked from the graph's unlinked parameters by node title and id, or
typed as NODE.INPUT) and its values (`a,b,c`, `lo..hi` or `@file`); the dialog expands them
with `nodeflow.jobs.sweep` against the current graph and refuses to close while a row is wrong,
showing that row's one-line error.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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
        self.targets = [self._target_box() for _ in range(ROWS)]
        self.specs = [QLineEdit() for _ in range(ROWS)]
        form = QFormLayout()
        for index, (target, spec) in enumerate(zip(self.targets, self.specs, strict=True)):
            target.lineEdit().setPlaceholderText("pick a node's parameter, or type node.input (5.seed)")
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
        for box in self.targets:
            box.currentTextChanged.connect(self._update)
        for edit in self.specs:
            edit.textChanged.connect(self._update)
        self.zip_box.toggled.connect(self._update)
        self.repeat.valueChanged.connect(self._update)
        self._update()

    def _target_box(self) -> QComboBox:
        """Every unlinked parameter of every node, by title and id; typing NODE.INPUT works too."""
        box = QComboBox()
        box.setEditable(True)
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        box.addItem("", "")
        for node_id in self.graph.nodes:
            cls = self.graph.node_class(node_id)
            for inp in cls.inputs if cls is not None else ():
                if inp.is_parameter and self.graph.link_into(node_id, inp.name) is None:
                    box.addItem(f"{self.graph.title(node_id)} (node {node_id}) · {inp.name}", f"{node_id}.{inp.name}")
        box.setCurrentIndex(0)
        return box

    @staticmethod
    def target(box: QComboBox) -> str:
        """NODE.INPUT of a row: the picked entry's, else what was typed."""
        text = box.currentText().strip()
        index = box.findText(text)
        return box.itemData(index) if index > 0 else text

    def options(self) -> list[str]:
        return [f"{self.target(t)}={s.text().strip()}" for t, s in zip(self.targets, self.specs, strict=True)
                if self.target(t) or s.text().strip()]

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
