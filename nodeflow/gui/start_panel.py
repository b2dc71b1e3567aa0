"""The start panel: what people open first, in a tab beside the node palette of a new window.

It offers the default text-to-image graph, an empty canvas, Open…, the bundled examples (a
thumbnail of each one's layout and the first line of its description), the official ComfyUI
templates when their package is installed (opened through the importer) and the recent files.
It only emits what was chosen; the window's file operations do the opening.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nodeflow.core.paths import PROJECT_ROOT
from nodeflow.gui.comfy_templates import comfyui_templates
from nodeflow.gui.workflow_thumbnail import thumbnail

EXAMPLES_DIR = PROJECT_ROOT / "workflows"
#: The example a new window starts with.
DEFAULT_EXAMPLE = EXAMPLES_DIR / "txt2img.json"


THUMB_SIZE = (64, 40)


def _first_line(description: str) -> str:
    """The description's first sentence, for the line under an example's name."""
    sentence = description.strip().split(". ")[0].split("\n")[0]
    return sentence if len(sentence) <= 90 else sentence[:87] + "…"


def _thumbnail(path: Path):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    return thumbnail(data, THUMB_SIZE)


def default_graph_text(registry) -> str | None:
    """The default graph's JSON, or None when a node type it uses is not registered."""
    try:
        text = DEFAULT_EXAMPLE.read_text(encoding="utf-8")
        types = {node["type"] for node in json.loads(text)["nodes"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return text if all(t in registry for t in types) else None


def example_workflows(folder: Path = EXAMPLES_DIR) -> list[tuple[Path, str, str]]:
    """(file, title, description) of each bundled example, the description read from its metadata."""
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            description = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("description", "")
        except (OSError, ValueError):
            continue
        found.append((path, path.stem.replace("_", " "), str(description)))
    return found


class StartPanel(QFrame):
    new_default = Signal()
    new_empty = Signal()
    open_requested = Signal()
    open_file = Signal(Path)
    open_example = Signal(Path)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("StartPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        buttons = QVBoxLayout()
        for text, signal, tip in (("Text to image", self.new_default, "The default txt2img graph"),
                                  ("Empty canvas", self.new_empty, "Start from nothing"),
                                  ("Open…", self.open_requested, "Open a workflow or a NodeFlow PNG")):
            button = QPushButton(text, toolTip=tip)
            button.clicked.connect(signal.emit)
            buttons.addWidget(button)
        self.examples = QListWidget()
        self.examples.setWordWrap(False)  # a narrow panel: the name and its line, each elided
        self.examples.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.examples.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.examples.setIconSize(QSize(*THUMB_SIZE))
        for path, name, description in example_workflows():
            item = QListWidgetItem(QIcon(_thumbnail(path)), f"{name}\n{_first_line(description)}".strip())
            item.setToolTip(description)
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.examples.addItem(item)
        self.examples.itemClicked.connect(lambda i: self.open_example.emit(Path(i.data(Qt.ItemDataRole.UserRole))))
        self.templates = QListWidget()  # ComfyUI's own templates, when their package is installed
        self.template_filter = QLineEdit(placeholderText="Filter ComfyUI templates…", clearButtonEnabled=True)
        for template in comfyui_templates():
            item = QListWidgetItem(template.title)
            item.setToolTip(f"{template.category}: {template.description}".strip(": "))
            item.setData(Qt.ItemDataRole.UserRole, str(template.path))
            self.templates.addItem(item)
        self.templates.itemClicked.connect(lambda i: self.open_file.emit(Path(i.data(Qt.ItemDataRole.UserRole))))
        self.template_filter.textChanged.connect(self._filter_templates)
        self.recent = QListWidget()
        self.recent.itemClicked.connect(lambda i: self.open_file.emit(Path(i.data(Qt.ItemDataRole.UserRole))))
        self.no_recent = QLabel("<i>No recent files yet</i>")
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        self.tabs: QTabWidget | None = None
        if self.templates.count():
            tabs = self.tabs = QTabWidget()
            tabs.addTab(self.examples, "Examples")
            column = QWidget()
            inner = QVBoxLayout(column)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(self.template_filter)
            inner.addWidget(self.templates)
            tabs.addTab(column, "ComfyUI")
            tabs.setTabToolTip(1, f"{self.templates.count()} official ComfyUI templates, opened through the importer")
            layout.addWidget(tabs, 2)
        else:
            layout.addWidget(QLabel("Examples"))
            layout.addWidget(self.examples, 2)
        layout.addWidget(QLabel("Recent files"))
        layout.addWidget(self.recent, 1)
        layout.addWidget(self.no_recent)

    def _filter_templates(self, text: str) -> None:
        words = text.lower().split()
        for row in range(self.templates.count()):
            item = self.templates.item(row)
            haystack = f"{item.text()} {item.toolTip()}".lower()
            item.setHidden(not all(word in haystack for word in words))

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            item = QListWidgetItem(Path(path).name)
            item.setToolTip(path)
            item.setData(Qt.ItemDataRole.UserRole, path)
            self.recent.addItem(item)
        self.recent.setVisible(bool(paths))
        self.no_recent.setVisible(not paths)


class StartDock:
    """The Start tab beside the palette: sends the panel's choices to the file operations (`files`:
    new, new_empty, open_dialog, open, open_example) and brings the palette back after a choice."""

    def __init__(self, window: QMainWindow, panel: StartPanel, docks: dict[str, QDockWidget], files,
                 recent) -> None:
        self.panel, self.dock, self.palette, self.recent = panel, docks["start"], docks["palette"], recent
        window.tabifyDockWidget(self.palette, self.dock)
        self.palette.raise_()
        panel.new_default.connect(lambda: files.new() and self.show_palette())
        panel.new_empty.connect(lambda: files.new_empty() and self.show_palette())
        panel.open_requested.connect(files.open_dialog)
        panel.open_file.connect(lambda p: files.open(p) and self.show_palette())
        panel.open_example.connect(lambda p: files.open_example(p) and self.show_palette())

    def show(self) -> None:
        """Bring the Start tab to the front, with the recent files as they are now."""
        self.panel.set_recent(self.recent())
        self.dock.show()
        self.dock.raise_()

    def show_palette(self) -> None:
        self.palette.show()
        self.palette.raise_()
