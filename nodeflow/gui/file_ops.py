"""New / Open / Save / Save As / Recent, dropped files, the unsaved-work prompt and the autosave.

FileOps knows the document, the settings (recent files, last folder) and a parent widget for its
dialogs; it tells the window what happened through signals (opened, saved, restored, failed)
rather than calling into it. Questions to the user go through `ask_*` methods, which tests replace
with fixed answers.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.files import PNG_WORKFLOW_KEY, embedded_texts, read_text
from nodeflow.gui.autosave import Autosave
from nodeflow.gui.document import Document
from nodeflow.gui.settings import Settings
from nodeflow.gui.start_panel import default_graph_text
from nodeflow.library import allow_read

FILTERS = ("Workflows (*.json *.png *.webp *.jpg *.jpeg);;Workflow JSON, NodeFlow or ComfyUI (*.json);;"
           "PNG with a workflow (*.png);;ComfyUI WebP (*.webp);;"
           "A1111/Forge/Civitai picture (*.png *.jpg *.jpeg *.webp);;All files (*)")
#: What a dropped file may be: a NodeFlow or ComfyUI workflow (JSON), or a picture carrying one (or
#: carrying A1111's parameters text).
DROPPED = (".json", ".png", ".webp", ".jpg", ".jpeg")
AUTOSAVE_MS = 5000
PICTURES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
#: What a picture's text chunks hold when it carries a workflow (NodeFlow, ComfyUI, A1111).
WORKFLOW_KEYS = (PNG_WORKFLOW_KEY, "workflow", "prompt", "parameters")


def is_plain_picture(path: Path) -> bool:
    """A readable picture file that carries no workflow: dropped, it is an input, not a document."""
    if path.suffix.lower() not in PICTURES or not path.is_file():
        return False
    try:
        if set(embedded_texts(path)) & set(WORKFLOW_KEYS):
            return False
    except WorkflowFormatError:
        return False
    from nodeflow.interop.a1111 import parameters_in  # A1111's JPEG/WebP keep theirs in the EXIF UserComment

    return parameters_in(path) is None


class FileOps(QObject):
    #: A workflow was opened: its path, the loader's notes, and whether it is an example's untitled copy.
    opened = Signal(object, list, bool)
    saved = Signal(object)  # the path written
    restored = Signal()  # the autosave of a crashed session was opened (unsaved)
    created = Signal(bool)  # a new workflow: True = the default graph, False = an empty canvas
    failed = Signal(str, str)  # title, text: a file that could not be read or written
    picture_dropped = Signal(object)  # the path of a dropped picture that carries no workflow

    def __init__(self, document: Document, settings: Settings, parent: QWidget):
        super().__init__(parent)
        self.document = document
        self.settings = settings
        self.parent_widget = parent
        self.autosave = Autosave()
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave_now)
        self.timer.start()

    # -- questions (replaced in tests) ---------------------------------------------------------

    def ask_save_changes(self) -> str:
        """'save', 'discard' or 'cancel'."""
        name = self.document.path.name if self.document.path else "Untitled"
        answer = QMessageBox.question(
            self.parent_widget, "Unsaved changes", f"Save changes to {name} before closing it?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def ask_restore(self, source: str | None) -> str:
        """'restore', 'discard' (delete the autosave) or 'later' (keep it, ask at the next start)."""
        what = f" of {source}" if source else ""
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved work?",
                          f"NodeFlow did not close properly last time. Restore the autosaved version{what}?",
                          parent=self.parent_widget)
        answers = {box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole): "restore",
                   box.addButton("Discard it", QMessageBox.ButtonRole.DestructiveRole): "discard",
                   box.addButton("Not now", QMessageBox.ButtonRole.RejectRole): "later"}
        box.exec()
        return answers.get(box.clickedButton(), "later")

    def ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open workflow", self.settings.last_dir,
                                              FILTERS)
        return path

    def ask_save_path(self) -> str:
        source = self.document.source
        start = str(self.document.path) if self.document.path else \
            str(source.with_name(f"{source.stem}.nodeflow.json")) if source else self.settings.last_dir
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save workflow", start, "Workflow JSON (*.json)")
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

    def new(self) -> bool:
        """A new workflow: the default text-to-image graph (runs as it is on any checkpoint), with
        the start panel offering the alternatives. An empty canvas where the graph's nodes are missing."""
        if not self.confirm_discard():
            return False
        text = default_graph_text(self.document.registry)
        if text is None:
            self.document.new()
        else:
            self.document.open_text(text, None, dirty=False)
        self.autosave.clear()
        self.created.emit(text is not None)
        return True

    def new_empty(self) -> bool:
        if not self.confirm_discard():
            return False
        self.document.new()
        self.autosave.clear()
        self.created.emit(False)
        return True

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
            self.failed.emit(f"Cannot open {Path(path).name}", str(exc))
            return False
        self.settings.add_recent(path)
        self.settings.last_dir = str(Path(path).parent)
        self.autosave.clear()
        self.opened.emit(Path(path), notes, False)
        return True

    def open_example(self, path: Path) -> bool:
        """Open a bundled example as an untitled copy, so Save never overwrites the example."""
        if not self.confirm_discard():
            return False
        try:
            notes = self.document.open_text(read_text(path), None, dirty=False)
        except WorkflowFormatError as exc:
            self.failed.emit(f"Cannot open {path.name}", str(exc))
            return False
        self.opened.emit(path, notes, True)
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
            self.failed.emit("Cannot save", f"{path}: {exc.strerror or exc}")
            return False
        self.settings.add_recent(path)
        self.settings.last_dir = str(path.parent)
        self.autosave.clear()
        self.saved.emit(path)
        return True

    def dropped(self, paths: list[str]) -> None:
        """A workflow (or a picture carrying one) opens; a plain picture becomes a Load Image node."""
        for path in paths:
            if is_plain_picture(Path(path)):
                allow_read(Path(path))  # the user's own pick may be read wherever it is (core.reads)
                self.picture_dropped.emit(Path(path))
        wanted = [p for p in paths if p.lower().endswith(DROPPED) and not is_plain_picture(Path(p))]
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
        """At start-up: offer the newest autosave left by a session that crashed.

        The autosave is deleted only when it was restored in full or the user discarded it. One
        that cannot be read, or restores only in part, is moved to the autosave folder's `kept/`
        and the message says where; older leftovers wait for the next start.
        """
        leftovers = self.autosave.leftovers()
        if not leftovers:
            return False
        newest = leftovers[0]
        try:
            text, source = Autosave.read(newest)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._keep(newest, "Cannot read the autosave", str(exc))
            return False
        answer = self.ask_restore(source)
        if answer == "discard":
            newest.unlink(missing_ok=True)
        if answer != "restore":
            return False
        try:
            dropped = self.document.restore_text(text, Path(source) if source else None)
        except WorkflowFormatError as exc:
            self._keep(newest, "Cannot restore the autosave", str(exc))
            return False
        self.restored.emit()
        if dropped:
            self._keep(newest, "Restored part of the autosave",
                       f"{len(dropped)} part(s) could not be restored: " + "; ".join(dropped[:5]))
        else:
            newest.unlink(missing_ok=True)
        return True

    def _keep(self, path: Path, title: str, why: str) -> None:
        try:
            where = self.autosave.keep(path)
        except OSError:
            where = path
        self.failed.emit(title, f"{why}. The autosave is kept at {where}")
