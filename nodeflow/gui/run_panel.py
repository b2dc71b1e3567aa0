"""The run panel: status and queue, per-node timings of the last run, and the run log."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodeflow.core.errors import ValidationError
from nodeflow.engine import events as ev
from nodeflow.gui.job_runner import WorkerCrashed

COLUMNS = ("Node", "State", "Time", "Why")


class RunPanel(QWidget):
    node_clicked = Signal(str)  # a row of the timings table: show that node

    def __init__(self, parent=None):
        super().__init__(parent)
        self.status = QLabel("Ready")
        self.queue_label = QLabel("")
        self.timings = QTreeWidget()
        self.timings.setHeaderLabels(COLUMNS)
        self.timings.setRootIsDecorated(False)
        self.timings.setColumnWidth(0, 180)
        self.timings.setColumnWidth(1, 70)
        self.timings.setColumnWidth(2, 60)
        self.timings.itemClicked.connect(
            lambda item, _column: self.node_clicked.emit(item.data(0, Qt.ItemDataRole.UserRole)))
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.queue_label)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.timings)
        split.addWidget(self.log)
        split.setSizes([420, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(split)
        self._rows: dict[str, QTreeWidgetItem] = {}
        self.titles: dict[str, str] = {}

    def clear(self) -> None:
        """Forget the last run's table and status (another workflow is open now); the log stays."""
        self.timings.clear()
        self._rows = {}
        self.titles = {}
        self.status.setText("Ready")

    def log_line(self, text: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    def set_queue(self, waiting: list[int]) -> None:
        """Name the runs waiting their turn, so a queued run is not mistaken for a lost click."""
        self.queue_label.setText(("queued: " + ", ".join(f"run {n}" for n in waiting)) if waiting else "")

    def _row(self, node_id: str) -> QTreeWidgetItem:
        if node_id not in self._rows:
            label = f"{node_id} · {self.titles.get(node_id, '')}".rstrip(" ·")
            self._rows[node_id] = QTreeWidgetItem(self.timings, [label, "", "", ""])
            self._rows[node_id].setData(0, Qt.ItemDataRole.UserRole, node_id)
        return self._rows[node_id]

    def handle(self, event) -> None:
        if isinstance(event, ev.RunStarted):
            self.timings.clear()
            self._rows = {}
            for node_id in event.order:
                self._row(node_id).setText(1, "queued")
            self.status.setText("Running…")
            self.log_line(f"run started: {len(event.order)} nodes")
        elif isinstance(event, ev.NodeStarted):
            self._row(event.node_id).setText(1, "running")
        elif isinstance(event, ev.NodeProgress):
            self._row(event.node_id).setText(1, f"{event.step}/{event.total}")
        elif isinstance(event, ev.NodeFinished):
            row = self._row(event.node_id)
            row.setText(1, "cached" if event.cached else "done")
            row.setText(2, f"{event.seconds:.2f}s")
            row.setText(3, event.reason)
        elif isinstance(event, ev.NodeFailed):
            row = self._row(event.node_id)
            row.setText(1, "failed")
            row.setText(3, event.message)
            row.setForeground(1, Qt.GlobalColor.red)
            self.log_line(f"FAILED {event.message}")
        elif isinstance(event, ev.NodeSkipped):
            self._row(event.node_id).setText(1, "skipped")
            self._row(event.node_id).setText(3, event.reason)
        elif isinstance(event, ev.NodeMessage):
            self.log_line(event.text if not event.node_id else f"[{event.node_id}] {event.text}")
        elif isinstance(event, ev.RunFinished):
            word = "cancelled" if event.cancelled else ("finished" if event.ok else "finished with errors")
            if event.cancelled:  # what never started will not run now
                for row in self._rows.values():
                    if row.text(1) in ("queued", "running") or "/" in row.text(1):
                        row.setText(1, "cancelled")
            self.status.setText(f"Run {word} in {event.seconds:.2f}s")
            self.log_line(f"run {word} in {event.seconds:.2f}s")
        elif isinstance(event, ValidationError):
            self.status.setText("Cannot run: the workflow has problems")
            for problem in event.problems:
                self.log_line(f"problem: {problem}")
        elif isinstance(event, WorkerCrashed):
            self.status.setText("Run crashed")
            self.log_line(f"error: {event.message}")
