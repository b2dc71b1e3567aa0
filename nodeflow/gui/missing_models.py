"""The Missing models dialog: what an opened workflow names that the library lacks, and ways to get it.

One row per model (name, kind, size, hash, source) with its state. Fetch and Fetch all download
through `library.fetch` (the same rules as `nodeflow models fetch`: verified, placed only when
complete, a shared file's loopback URLs refused), on a worker thread, one file at a time, with a
progress bar per row; Choose file... points the nodes at a file on disk; Search by hash looks for a
renamed copy in the library. Each model that lands updates the nodes that name it (one undoable
edit per node), and its row says how it was found.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from nodeflow.core.byte_sizes import format_bytes
from nodeflow.library import ModelLibrary
from nodeflow.library.addresses import FetchRefused
from nodeflow.library.download import Options, Transfer
from nodeflow.library.fetch import fetch_all
from nodeflow.library.wanted import Missing

COLUMNS = ("Name", "Kind", "Size", "Hash", "Source", "State")
STATE = COLUMNS.index("State")


class Cancelled(FetchRefused):
    """The dialog was closed during a download (the partial file is kept: the next fetch resumes)."""


class _Signals(QObject):
    """Worker thread -> GUI thread (queued connections)."""

    progress = Signal(int, object)  # row, Transfer
    landed = Signal(int, object, str)  # row, path or None, the outcome's line


class MissingModelsDialog(QDialog):
    """Lists `missing` and gets each model; `document` receives the parameter edits."""

    #: A model is in place now (row): what depends on the library (the memory estimate) looks again.
    model_landed = Signal(int)

    def __init__(self, document: Any, missing: list[Missing], library: ModelLibrary,
                 options: Options | None = None, parent: Any = None):
        super().__init__(parent)
        self.setWindowTitle("Missing models")
        self.document, self.missing, self.library = document, list(missing), library
        self.options = options or Options()
        #: Each row's latest state line; rows whose model is in place now.
        self.lines: dict[int, str] = {}
        self.settled: set[int] = set()
        self._busy = False
        self._closed = threading.Event()
        self._signals = _Signals()
        self._signals.progress.connect(self._progress)
        self._signals.landed.connect(self._landed)
        self.table = QTableWidget(len(self.missing), len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, item in enumerate(self.missing):
            self._fill(row, item)
        self.table.resizeColumnsToContents()
        self.fetch_all_button = QPushButton("Fetch all")
        self.fetch_button = QPushButton("Fetch")
        self.choose_button = QPushButton("Choose file…")
        self.search_button = QPushButton("Search by hash")
        for button, slot in ((self.fetch_all_button, self.fetch_all), (self.fetch_button, self.fetch_selected),
                             (self.choose_button, self.choose_file), (self.search_button, self.search_selected)):
            button.clicked.connect(slot)
        actions = QHBoxLayout()
        for button in (self.fetch_all_button, self.fetch_button, self.choose_button, self.search_button):
            actions.addWidget(button)
        actions.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"This workflow names {len(self.missing)} model(s) the library does not have."))
        layout.addWidget(self.table)
        layout.addLayout(actions)
        layout.addWidget(close)
        self.resize(900, 160 + 30 * len(self.missing))

    def _fill(self, row: int, item: Missing) -> None:
        wanted = item.wanted
        cells = (wanted.name or "", wanted.kind, format_bytes(wanted.size) if wanted.size else "unknown",
                 (wanted.sha256 or "none recorded").removeprefix("sha256:")[:16], wanted.url or "no URL recorded",
                 "missing")
        for column, text in enumerate(cells):
            cell = QTableWidgetItem(text)
            cell.setToolTip(wanted.url if column == COLUMNS.index("Source") and wanted.url else text)
            self.table.setItem(row, column, cell)

    # -- actions ------------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})

    def fetch_all(self) -> None:
        self._start([r for r in range(len(self.missing)) if self._open(r) and self.missing[r].wanted.url])

    def fetch_selected(self) -> None:
        self._start([r for r in self.selected_rows() if self._open(r)])

    def search_selected(self) -> None:
        rows = [r for r in self.selected_rows() if self._open(r)]
        self._run(rows, self._search_one)

    def choose_file(self) -> None:
        rows = [r for r in self.selected_rows() if self._open(r)]
        if not rows:
            return
        chosen = self.ask_file(self.missing[rows[0]])
        if chosen:
            for row in rows:
                self._landed(row, Path(chosen), f"chosen: {chosen}")

    def ask_file(self, item: Missing) -> str:
        """The file the user picks for `item` ("" when cancelled); tests replace this."""
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the file for {item.wanted.name}", "",
                                              "Models (*.safetensors *.sft *.gguf *.ckpt *.pt *.pth *.bin)")
        return path

    # -- work on a thread ---------------------------------------------------------------------------

    def _open(self, row: int) -> bool:
        return row not in self.settled

    def _start(self, rows: list[int]) -> None:
        self._run(rows, self._fetch_one)

    def _run(self, rows: list[int], one: Any) -> None:
        if self._busy or not rows:
            return
        self._busy = True
        self._set_buttons(False)
        for row in rows:
            self._state(row, "waiting…")
        threading.Thread(target=self._work, args=(rows, one), daemon=True, name="missing-models").start()

    def _work(self, rows: list[int], one: Any) -> None:
        for row in rows:
            if self._closed.is_set():
                break
            one(row)
        self._signals.landed.emit(-1, None, "")

    def _fetch_one(self, row: int) -> None:
        def report(transfer: Transfer) -> None:
            if self._closed.is_set():
                raise Cancelled("the dialog was closed; fetch again to resume")
            self._signals.progress.emit(row, transfer)

        [result] = fetch_all([self.missing[row].wanted], self.library.index, self.options,
                             on_progress=lambda _w, t: report(t))
        self._signals.landed.emit(row, result.path, result.line)

    def _search_one(self, row: int) -> None:
        wanted = self.missing[row].wanted
        path = self.library.find_by_hash(wanted.kind, wanted.sha256, like=wanted.name or "") if wanted.sha256 else None
        line = f"found by its hash: {path}" if path else "no model in the library has its hash"
        self._signals.landed.emit(row, path, line)

    # -- results (GUI thread) -----------------------------------------------------------------

    def _progress(self, row: int, transfer: Transfer) -> None:
        bar = self.table.cellWidget(row, STATE)
        if not isinstance(bar, QProgressBar):
            bar = QProgressBar()
            bar.setRange(0, 1000)
            self.table.setCellWidget(row, STATE, bar)
        total = transfer.total
        bar.setValue(int(1000 * transfer.done / total) if total else 0)
        left = f", {transfer.eta:.0f} s left" if transfer.eta is not None else ""
        of = f" / {format_bytes(total)}" if total else ""
        bar.setFormat(f"{format_bytes(transfer.done)}{of}, {format_bytes(int(transfer.rate))}/s{left}")

    def _landed(self, row: int, path: Path | None, line: str) -> None:
        if row < 0:
            self._busy = False
            self._set_buttons(True)
            return
        self.table.removeCellWidget(row, STATE)
        if path is None:
            self._state(row, line)
            return
        named = self.library.name_of(Path(path))
        value = named[1] if named and named[0] == self.missing[row].wanted.kind else str(path)
        for node_id, input_name in self.missing[row].uses:
            if node_id in self.document.graph.nodes:
                self.document.set_param(node_id, input_name, value)
        self.settled.add(row)
        self._state(row, line)
        self.model_landed.emit(row)

    def _state(self, row: int, text: str) -> None:
        self.lines[row] = text
        cell = QTableWidgetItem(text)
        cell.setToolTip(text)
        self.table.setItem(row, STATE, cell)

    def _set_buttons(self, enabled: bool) -> None:
        for button in (self.fetch_all_button, self.fetch_button, self.choose_button, self.search_button):
            button.setEnabled(enabled)

    def done(self, result: int) -> None:
        self._closed.set()  # a download in flight stops at its next progress report
        super().done(result)


def offer(window: Any, library: ModelLibrary | None = None, options: Options | None = None
          ) -> MissingModelsDialog | None:
    """Show the dialog (not modal) when the window's workflow names models the library lacks. No
    model file is hashed here (the GUI thread): a renamed copy not indexed yet is listed, and
    Search by hash finds it."""
    from nodeflow.library import default_library
    from nodeflow.library.wanted import missing_models

    library = library or default_library()
    document = window.document
    workflow_dir = document.path.parent if document.path else None
    missing = missing_models(document.graph, library, library.search_dirs(workflow_dir), compute=False)
    if not missing:
        return None
    dialog = MissingModelsDialog(document, missing, library, options, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if hasattr(window, "memory_bar"):  # the estimate said "no estimate until valid"; a landed model changes that
        dialog.model_landed.connect(lambda _row: window.memory_bar.schedule())
    dialog.show()
    return dialog
