"""What opening a ComfyUI file did, in a window beside the canvas: how many nodes were mapped,
which classes stay placeholders and which frontend-only nodes were resolved away, each with what
to do about it. (Models the file names and the library lacks get their own window,
gui/missing_models.py.) Not modal: the graph stays editable while it is open."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout

from nodeflow.interop.comfyui.report import ImportReport

PLACEHOLDER_FIX = ("Install the plugin that provides this class, or replace the node with a NodeFlow one; "
                   "the placeholder keeps all its data and links until then")


class ImportReportDialog(QDialog):
    def __init__(self, report: ImportReport, source: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Imported {source}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        summary = QLabel(f"{len(report.mapped)} node(s) mapped to NodeFlow nodes, "
                         f"{len(report.placeholders)} kept as placeholders, {len(report.dropped)} resolved away.")
        summary.setWordWrap(True)
        self.rows = QTreeWidget()
        self.rows.setHeaderLabels(["Node", "ComfyUI class", "What happened", "What to do"])
        self.rows.setRootIsDecorated(False)
        self.rows.setWordWrap(True)
        for node_id, kind, why in report.placeholders:
            self._row(node_id, kind, f"placeholder: {why}", PLACEHOLDER_FIX)
        for node_id, kind, why in report.dropped:
            self._row(node_id, kind, why, "nothing: its effect is kept in the graph")
        for line in report.problems:
            self._row("", "", line, "check the value named on the node")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.rows, 1)
        layout.addWidget(buttons)
        self.resize(760, 320)

    def _row(self, node_id: str, kind: str, what: str, fix: str) -> None:
        item = QTreeWidgetItem(self.rows, [node_id, kind, what, fix])
        for column in range(4):
            item.setToolTip(column, item.text(column))


def show_import_report(report: ImportReport | None, source: str, parent) -> ImportReportDialog | None:
    """Show the window when an import did anything to look at (all mapped and clean: none)."""
    if report is None or not (report.placeholders or report.dropped or report.problems):
        return None
    dialog = ImportReportDialog(report, source, parent)
    dialog.show()
    return dialog
