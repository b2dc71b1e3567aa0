"""The output panel: the images runs produced, and what you can do with each.

The selected image is shown large (wheel zoom, middle-drag pan) with its file, size and seed;
buttons open the output folder, reveal the file, copy, save a copy, compare two images with a
divider, paint a mask on it, or send it to a Load Image node. Thumbnails drag out as files.
The output folder is shown at the top and can be changed there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nodeflow.gui.mask_editor.dialog import edit_mask
from nodeflow.gui.outputs import actions
from nodeflow.gui.outputs.compare import CompareView
from nodeflow.gui.outputs.entries import OutputImage
from nodeflow.gui.widgets.flow_row import ActionRow
from nodeflow.gui.widgets.path_label import PathLabel
from nodeflow.gui.widgets.zoom_view import ZoomView

MAX_KEPT = 200
THUMB = 48


class _Strip(QListWidget):
    """Thumbnails; dragging one out gives the file (or the pixels of an unsaved preview)."""

    def __init__(self, viewer: OutputViewer):
        super().__init__()
        self.viewer = viewer
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setFixedHeight(THUMB + 26)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setMovement(QListWidget.Movement.Static)

    def mimeData(self, items) -> QMimeData:
        return self.viewer.mime_for([self.row(i) for i in items])


class OutputViewer(QWidget):
    #: (file, stored mask or "") to put into a Load Image node.
    send_to_load_image = Signal(Path, str)
    output_dir_changed = Signal(Path)
    images_added = Signal()  # a run (or the queue) showed new pictures

    def __init__(self, output_dir: Path, parent=None):
        super().__init__(parent)
        self.output_dir = Path(output_dir)
        self.entries: list[OutputImage] = []
        self.folder_label = PathLabel()  # a long path loses middle folders: its own name shows
        change = QPushButton("Change…", toolTip="Choose the folder runs save into")
        change.setAutoDefault(False)
        change.clicked.connect(self.choose_output_dir)
        open_ = QPushButton("Open", toolTip="Open the output folder")
        open_.clicked.connect(lambda: actions.open_folder(self.output_dir))
        header = QHBoxLayout()  # the folder on the buttons' line: one line less in a short panel
        header.addWidget(self.folder_label, 1)
        header.addWidget(change)
        header.addWidget(open_)
        self.single = ZoomView()
        self.compare = CompareView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.single)
        self.stack.addWidget(self.compare)
        self.stack.setMinimumHeight(THUMB)  # a short panel (1280x720) still shows its buttons and thumbnails
        self.info = QLabel("No images yet")
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons: dict[str, QAction] = {}
        for key, text, tip, slot in (
            ("fit", "Fit", "Show the whole image", self.single.fit),
            ("actual", "1:1", "Actual pixels", lambda: self.single.set_zoom(1.0)),
            ("reveal", "Reveal", "Show the file in the file manager", self.reveal_current),
            ("copy", "Copy", "Copy the image to the clipboard", self.copy_current),
            ("save_as", "Save As…", "Save a copy somewhere else", lambda: self.save_current_as()),
            ("compare", "Compare", "Compare the two selected images (Ctrl+click two thumbnails) with a divider",
             self.toggle_compare),
            ("mask", "Paint Mask…", "Paint a mask on this image and send both to Load Image",
             self.paint_mask_current),
            ("send", "To Load Image", "Use this image in a Load Image node", lambda: self.send_current()),
        ):
            action = QAction(text, self)
            action.setToolTip(tip)
            action.triggered.connect(slot)
            self.buttons[key] = action
        self.buttons["compare"].setCheckable(True)
        self.strip = _Strip(self)
        self.strip.currentRowChanged.connect(self._show_row)
        self.strip.itemSelectionChanged.connect(self._selection_changed)
        self.strip.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.strip.customContextMenuRequested.connect(self._strip_menu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.info)
        layout.addWidget(ActionRow(list(self.buttons.values())))  # wraps: nothing hides behind a "»"
        layout.addWidget(self.strip)
        self.set_output_dir(self.output_dir)
        self._update_buttons()

    # ------------------------------------------------------------------ the output folder
    def set_output_dir(self, folder: Path) -> None:
        self.output_dir = Path(folder)
        self.folder_label.setText(str(self.output_dir))

    def choose_output_dir(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Output folder", str(self.output_dir))
        if chosen:
            self.set_output_dir(Path(chosen))
            self.output_dir_changed.emit(self.output_dir)

    # ------------------------------------------------------------------ images
    def add_images(self, entries: list[OutputImage]) -> None:
        for entry in entries:
            self.entries.append(entry)
            thumb = entry.image.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
            item = QListWidgetItem(QIcon(QPixmap.fromImage(thumb)), "")
            item.setToolTip(entry.describe())
            self.strip.addItem(item)
        while len(self.entries) > MAX_KEPT:
            self.entries.pop(0)
            self.strip.takeItem(0)
        self.strip.setCurrentRow(self.strip.count() - 1)
        if entries:
            self.images_added.emit()
        if [e.compare for e in entries] == ["a", "b"] and self.strip.count() >= 2:  # Image Compare's pair
            self.compare_rows(self.strip.count() - 2, self.strip.count() - 1)

    def clear(self) -> None:
        """Forget every image (a new workflow starts with an empty panel)."""
        self.entries.clear()
        self.strip.clear()
        self.single.set_image(None)
        self.buttons["compare"].setChecked(False)
        self.stack.setCurrentWidget(self.single)
        self.info.setText("No images yet")
        self._update_buttons()

    def current(self) -> OutputImage | None:
        row = self.strip.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def selected_rows(self) -> list[int]:
        return sorted(self.strip.row(i) for i in self.strip.selectedItems())

    def _show_row(self, row: int) -> None:
        entry = self.entries[row] if 0 <= row < len(self.entries) else None
        if entry is None:
            return
        self.single.set_image(entry.image, keep_view=True)
        self.info.setText(entry.describe() + (f" · {entry.path.parent}" if entry.path else ""))
        self.info.setToolTip(str(entry.path) if entry.path else "")
        self._update_buttons()

    def _selection_changed(self) -> None:
        if self.buttons["compare"].isChecked():
            self._show_compare()
        self._update_buttons()

    def _update_buttons(self) -> None:
        entry = self.current()
        for key in ("fit", "actual", "copy", "save_as", "mask", "send"):
            self.buttons[key].setEnabled(entry is not None)
        self.buttons["reveal"].setEnabled(entry is not None and entry.path is not None)
        self.buttons["compare"].setEnabled(len(self.selected_rows()) == 2 or self.buttons["compare"].isChecked())

    # ------------------------------------------------------------------ compare
    def toggle_compare(self) -> None:
        if self.buttons["compare"].isChecked() and len(self.selected_rows()) == 2:
            self._show_compare()
        else:
            self.buttons["compare"].setChecked(False)
            self.stack.setCurrentWidget(self.single)
            self._show_row(self.strip.currentRow())  # the caption goes back to the one image shown
        self._update_buttons()

    def compare_rows(self, a: int, b: int) -> None:
        """Show images `a` and `b` with the divider (what selecting two and pressing Compare does)."""
        self.strip.clearSelection()
        self.strip.item(a).setSelected(True)
        self.strip.item(b).setSelected(True)
        self.buttons["compare"].setChecked(True)
        self.toggle_compare()

    def _show_compare(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 2:
            return
        a, b = (self.entries[r] for r in rows)
        self.compare.set_images(a.image, b.image)
        self.info.setText(f"A: {a.describe()}   |   B: {b.describe()}")
        self.stack.setCurrentWidget(self.compare)

    # ------------------------------------------------------------------ actions
    def reveal_current(self) -> None:
        entry = self.current()
        if entry is not None and entry.path is not None:
            actions.reveal(entry.path)

    def copy_current(self) -> None:
        entry = self.current()
        if entry is not None:
            actions.copy_image(entry.image, entry.path)

    def save_current_as(self, target: Path | None = None) -> Path | None:
        entry = self.current()
        if entry is None:
            return None
        if target is None:
            suggested = str(self.output_dir / (entry.path.name if entry.path else "image.png"))
            chosen, _ = QFileDialog.getSaveFileName(self, "Save image as", suggested,
                                                    "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp)")
            if not chosen:
                return None
            target = Path(chosen)
        actions.save_copy(entry.image, entry.path, target)
        return target

    def file_for(self, entry: OutputImage) -> Path:
        """The entry's file; an unsaved preview is saved into the output folder first."""
        if entry.path is None or not entry.path.is_file():
            from nodeflow.core.atomic import write_new

            def write(handle) -> None:
                from PySide6.QtCore import QBuffer, QByteArray, QIODevice

                data = QByteArray()
                buffer = QBuffer(data)
                buffer.open(QIODevice.OpenModeFlag.WriteOnly)
                entry.image.save(buffer, "PNG")
                handle.write(bytes(data))

            entry.path = write_new(self.output_dir, "preview", ".png", write)
        return entry.path

    def send_current(self, mask: str = "") -> None:
        entry = self.current()
        if entry is not None:
            self.send_to_load_image.emit(self.file_for(entry), mask)

    def paint_mask_current(self) -> None:
        """Paint a mask on the image; OK sends both to a Load Image node."""
        entry = self.current()
        if entry is None:
            return
        stored = edit_mask(entry.image, "", f"Paint a mask on {entry.describe()}", parent=self)
        if stored is not None:
            self.send_current(stored)

    def mime_for(self, rows: list[int]) -> QMimeData:
        data = QMimeData()
        entries = [self.entries[r] for r in rows if 0 <= r < len(self.entries)]
        urls = [QUrl.fromLocalFile(str(e.path)) for e in entries if e.path is not None]
        if urls:
            data.setUrls(urls)
        if entries:
            data.setImageData(entries[0].image)
        return data

    def _strip_menu(self, pos) -> None:
        if self.strip.itemAt(pos) is None:
            return
        menu = QMenu(self)
        for key in ("reveal", "copy", "save_as", "mask", "send"):
            menu.addAction(self.buttons[key])
        menu.exec(self.strip.viewport().mapToGlobal(pos))
