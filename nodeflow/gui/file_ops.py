"""New / Open / Save / Save As / Recent, dropped files, the unsaved-work prompt and the autosave.

Questions to the user go through `ask_*` methods, which tests replace with fixed answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.files import read_text
from nodeflow.gui.settings import Autosave

if TYPE_CHECKING:
    from nodeflow.gui.main_window import MainWindow

FILTERS = "Workflows (*.json *.png);;Workflow JSON (*.json);;NodeFlow PNG (*.png);;All files (*)"
AUTOSAVE_MS = 5000


class FileOps(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.autosave = Autosave()
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave_now)
        self.timer.start()

    @property
    def document(self):
        return self.window.document

    # -- questions (replaced in tests) ---------------------------------------------------------

    def ask_save_changes(self) -> str:
        """'save', 'discard' or 'cancel'."""
        name = self.document.path.name if self.document.path else "Untitled"
        answer = QMessageBox.question(
            self.window, "Unsaved changes", f"Save changes to {name} before closing it?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def ask_restore(self, source: str | None) -> bool:
        what = f" of {source}" if source else ""
        return QMessageBox.question(
            self.window, "Restore unsaved work?",
            f"NodeFlow did not close properly last time. Restore the autosaved version{what}?",
        ) == QMessageBox.StandardButton.Yes

    def ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open workflow", self.window.settings.last_dir,
                                              FILTERS)
        return path

    def ask_save_path(self) -> str:
        start = str(self.document.path) if self.document.path else self.window.settings.last_dir
        path, _ = QFileDialog.getSaveFileName(self.window, "Save workflow", start, "Workflow JSON (*.json)")
        if path and not path.lower().endswith(".json"):
            path += ".json"
        return path

    # -- operations ----------------------------------------------------------------------------

    def confirm_discard(self) -> bool:
        """True when the current work may be replaced (saved, discarded, or clean)."""
        if not self.document.dirty:
            return True
        answer = self.ask_save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new(self) -> None:
        if self.confirm_discard():
            self.document.new()
            self.autosave.clear()

    def open_dialog(self) -> None:
        if self.confirm_discard():
            path = self.ask_open_path()
            if path:
                self.open(Path(path), confirm=False)

    def open(self, path: Path, confirm: bool = True) -> bool:
        if confirm and not self.confirm_discard():
            return False
        try:
            notes = self.document.open(Path(path))
        except WorkflowFormatError as exc:
            self.window.report_error(f"Cannot open {Path(path).name}", str(exc))
            return False
        self.window.settings.add_recent(path)
        self.window.settings.last_dir = str(Path(path).parent)
        self.window.refresh_recent()
        for note in notes:
            self.window.run_panel.log_line(note)
        self.window.status(f"Opened {Path(path).name}" + (f" ({len(notes)} notes in the log)" if notes else ""))
        self.window.view.fit_all()
        self.autosave.clear()
        return True

    def open_example(self, path: Path) -> bool:
        """Open a bundled example as an untitled copy, so Save never overwrites the example."""
        if not self.confirm_discard():
            return False
        try:
            notes = self.document.open_text(read_text(path), None, dirty=False)
        except WorkflowFormatError as exc:
            self.window.report_error(f"Cannot open {path.name}", str(exc))
            return False
        for note in notes:
            self.window.run_panel.log_line(note)
        self.window.status(f"Opened the example {path.stem} (untitled copy)")
        self.window.view.fit_all()
        return True

    def save(self) -> bool:
        if self.document.path is None or self.document.path.suffix.lower() != ".json":
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        path = self.ask_save_path()
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except OSError as exc:
            self.window.report_error("Cannot save", f"{path}: {exc.strerror or exc}")
            return False
        self.window.settings.add_recent(path)
        self.window.settings.last_dir = str(path.parent)
        self.window.refresh_recent()
        self.window.status(f"Saved {path.name}")
        self.autosave.clear()
        return True

    def dropped(self, paths: list[str]) -> None:
        wanted = [p for p in paths if p.lower().endswith((".json", ".png"))]
        if wanted:
            self.open(Path(wanted[0]))

    # -- autosave ------------------------------------------------------------------------------

    def autosave_now(self) -> bool:
        if not self.document.dirty:
            return False
        try:
            return self.autosave.write(self.document.text(), self.document.path)
        except OSError:
            return False

    def offer_restore(self) -> bool:
        """At start-up: offer the newest autosave left by a session that crashed."""
        leftovers = self.autosave.leftovers()
        if not leftovers:
            return False
        newest = leftovers[0]
        try:
            text, source = Autosave.read(newest)
        except (OSError, ValueError, KeyError):
            newest.unlink(missing_ok=True)
            return False
        restored = False
        if self.ask_restore(source):
            try:
                self.document.open_text(text, Path(source) if source else None, dirty=True)
                restored = True
                self.window.status("Restored the autosaved workflow (not saved yet)")
            except WorkflowFormatError as exc:
                self.window.report_error("Cannot restore the autosave", str(exc))
        for path in leftovers:
            path.unlink(missing_ok=True)
        return restored
