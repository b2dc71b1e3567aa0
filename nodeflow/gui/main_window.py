"""The main window: canvas in the middle, palette, inspector, run panel and output viewer docked
around it, menus and a toolbar. It wires parts together; each part does its own job."""

from __future__ import annotations

import base64
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QGraphicsItem, QInputDialog, QMainWindow, QMenu, QMessageBox

from nodeflow.core.graph import NodeMode
from nodeflow.core.paths import user_dir
from nodeflow.core.registry import Registry, default_registry
from nodeflow.gui.canvas.placement import land_visible
from nodeflow.gui.canvas.scene import NodeScene
from nodeflow.gui.canvas.view import NodeView
from nodeflow.gui.dock_sizes import (
    bring_forward_when_tabbed,
    fit_to_screen,
    keep_on_screen,
    size_docks_when_shown,
    tab_start_with_palette,
)
from nodeflow.gui.document import Document
from nodeflow.gui.edit_actions import EditActions
from nodeflow.gui.file_ops import FileOps
from nodeflow.gui.help_browser import HelpBrowser
from nodeflow.gui.inspector import Inspector
from nodeflow.gui.job_runner import JobQueueRunner
from nodeflow.gui.memory_bar import MemoryBar
from nodeflow.gui.outputs.to_load_image import send_to_load_image
from nodeflow.gui.outputs.viewer import OutputViewer
from nodeflow.gui.palette import Palette
from nodeflow.gui.run_actions import RunActions
from nodeflow.gui.run_panel import RunPanel
from nodeflow.gui.settings import Settings
from nodeflow.gui.shortcuts import SHORTCUTS, ShortcutsDialog
from nodeflow.gui.start_panel import StartDock, StartPanel
from nodeflow.gui.subgraph_ui import install as install_subgraphs
from nodeflow.gui.window_menus import build_menus
from nodeflow.jobs.store import Job, JobStore


class MainWindow(QMainWindow):
    def __init__(self, registry: Registry | None = None, executor=None, output_dir: Path | None = None):
        super().__init__()
        self.registry = registry or default_registry()
        self.settings = Settings.load()
        self.document = Document(self.registry)
        cache = QGraphicsItem.CacheMode.DeviceCoordinateCache if self.settings.item_cache \
            else QGraphicsItem.CacheMode.NoCache
        self.scene = NodeScene(self.document, cache)
        self.scene.snap = self.settings.snap_to_grid
        self.edit_actions = EditActions(self.scene, self.document, lambda: self.view.pointer_scene_pos())
        self.view = NodeView(self.scene, self.edit_actions)
        self.view.minimap.setVisible(self.settings.show_minimap)
        self.setCentralWidget(self.view)
        self.setAcceptDrops(True)
        self.view_menu = QMenu("&View", self)  # each dock adds itself to it (see _dock)
        self.palette = Palette(self.registry)
        self.inspector = Inspector(self.scene)
        self.run_panel = RunPanel()
        self.start_panel = StartPanel()
        self.output_viewer = OutputViewer(output_dir or Path(self.settings.output_dir or user_dir() / "output"))
        self.docks = {
            "palette": self._dock("Nodes", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea),
            "inspector": self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea),
            "output": self._dock("Output", self.output_viewer, Qt.DockWidgetArea.RightDockWidgetArea),
            "run": self._dock("Run", self.run_panel, Qt.DockWidgetArea.BottomDockWidgetArea),
            "start": self._dock("Start", self.start_panel, Qt.DockWidgetArea.LeftDockWidgetArea),
        }
        self.runner = JobQueueRunner(JobStore(), self.registry, executor, self.settings.memory_budget_bytes)
        self.run_actions = RunActions(self, self.runner)
        self.memory_bar = MemoryBar(self.settings, self.runner, self.document, self.run_actions.workflow_dir,
                                    output_dir=lambda: self.output_dir)
        self.files = FileOps(self.document, self.settings, self)
        self.help_browser: HelpBrowser | None = None
        self.actions_: dict[str, QAction] = {}
        self._build_actions()
        build_menus(self)
        self.subgraphs = install_subgraphs(self)
        self._connect()
        self._restore_layout()
        self._update_title()

    # -- construction --------------------------------------------------------------------------

    def _dock(self, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.view_menu.addAction(dock.toggleViewAction())  # every panel, also ones added later (Queue)
        return dock

    def _action(self, name: str, text: str, slot, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        keys = SHORTCUTS.get(name, ((), ""))[0]
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{text.replace('&', '').rstrip('…')} ({keys[0]})" if keys else text)
        action.setCheckable(checkable)
        # Only a checkable action's slot gets `checked`: Qt would pass it to any slot that takes an
        # argument, and `group_selection(title)` once named a frame False (a crash in drawText).
        action.triggered.connect(slot if checkable else lambda _checked=False: slot())
        self.actions_[name] = action
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        ea, f, v = self.edit_actions, self.files, self.view
        for name, text, slot in (
            ("new", "&New", f.new), ("open", "&Open…", f.open_dialog), ("save", "&Save", f.save),
            ("save_as", "Save &As…", f.save_as), ("quit", "&Quit", self.close),
            ("cut", "Cu&t", ea.cut), ("copy", "&Copy", ea.copy), ("paste", "&Paste", lambda: ea.paste()),
            ("paste_inputs", "Paste with &Inputs", lambda: ea.paste(with_inputs=True)),
            ("duplicate", "D&uplicate", ea.duplicate), ("delete", "&Delete", ea.delete),
            ("select_all", "Select &All", ea.select_all), ("group", "&Group Selection", ea.group_selection),
            ("mute", "&Mute", lambda: ea.toggle_mode(NodeMode.MUTED)),
            ("bypass", "&Bypass", lambda: ea.toggle_mode(NodeMode.BYPASS)),
            ("collapse", "Co&llapse", ea.toggle_collapse), ("rename", "&Rename…", self._rename_selected),
            ("run", "&Run", self.run_workflow), ("stop", "&Stop", self.stop),
            ("validate", "&Validate", self.validate), ("fit_all", "&Frame All", lambda: v.fit_all(overview=True)),
            ("fit_selection", "Frame &Selection", v.fit_selection),
            ("zoom_in", "Zoom &In", lambda: v.zoom_by(1.25)), ("zoom_out", "Zoom &Out", lambda: v.zoom_by(0.8)),
            ("zoom_reset", "Zoom &100%", lambda: v.set_zoom(1.0)),
            ("shortcuts", "&Keyboard Shortcuts", self.show_shortcuts),
            ("node_help", "&Node Reference", self.show_node_help),
            ("start_panel", "&Start Panel", lambda: self.start.show()),
        ):
            self._action(name, text, slot)
        undo = self.document.undo.createUndoAction(self, "&Undo")
        redo = self.document.undo.createRedoAction(self, "&Redo")
        for name, action in (("undo", undo), ("redo", redo)):
            action.setShortcuts([QKeySequence(k) for k in SHORTCUTS[name][0]])
            self.actions_[name] = action
            self.addAction(action)
        snap = self._action("snap", "Snap to &Grid", self._toggle_snap, checkable=True)
        snap.setChecked(self.scene.snap)
        self._action("node_ids", "Show Node &IDs", self._toggle_node_ids, checkable=True)
        minimap = self._action("minimap", "&Minimap", self._toggle_minimap, checkable=True)
        minimap.setChecked(self.settings.show_minimap)
        self.actions_["stop"].setEnabled(False)
        self.actions_["stop"].setToolTip("Stop the running job (Esc); queued runs go on: the Queue tab cancels them")
        ea.add_nudge_keys(self.view)

    def _connect(self) -> None:
        doc = self.document
        doc.dirty_changed.connect(lambda _d: self._update_title())
        doc.path_changed.connect(self._update_title)
        doc.graph_replaced.connect(self._graph_replaced)
        self.scene.message.connect(self.status)
        self.scene.rename_requested.connect(self.rename_node)
        self.view.files_dropped.connect(self.files.dropped)
        self.files.opened.connect(self._opened)
        self.files.saved.connect(self._saved)
        self.files.restored.connect(lambda: (self.view.fit_all(), self.status("Restored the autosave (not saved)")))
        self.files.created.connect(self._created)
        self.files.failed.connect(self.report_error)
        self.files.picture_dropped.connect(lambda path: send_to_load_image(
            self.registry, self.document, self.scene, self.view, path, reuse_selected=False))
        self.palette.activated.connect(self._add_at_centre)
        self.memory_bar.message.connect(self.status)
        self.run_panel.node_clicked.connect(self.show_node)
        self.output_viewer.output_dir_changed.connect(self._set_output_dir)
        self.output_viewer.send_to_load_image.connect(self.send_to_load_image)
        bring_forward_when_tabbed(self, self.docks, self.scene, self.output_viewer)
        self.start = StartDock(self, self.start_panel, self.docks, self.files, self.settings.existing_recent)

    # -- window state --------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        fit_to_screen(self)
        if self.settings.geometry:
            self.restoreGeometry(QByteArray(base64.b64decode(self.settings.geometry)))
            keep_on_screen(self)
        if self.settings.window_state:
            self.restoreState(QByteArray(base64.b64decode(self.settings.window_state)))
            tab_start_with_palette(self, self.docks)
        else:
            size_docks_when_shown(self, self.docks)

    def save_layout(self) -> None:
        self.settings.geometry = base64.b64encode(bytes(self.saveGeometry())).decode()
        self.settings.window_state = base64.b64encode(bytes(self.saveState())).decode()
        self.settings.snap_to_grid = self.scene.snap
        self.settings.show_minimap = self.actions_["minimap"].isChecked()
        self.settings.save()

    def _update_title(self) -> None:
        source = self.document.source
        name = self.document.path.name if self.document.path else f"{source.name} (imported)" if source \
            else "Untitled"
        self.setWindowTitle(f"{name}[*] — NodeFlow")
        self.setWindowModified(self.document.dirty)

    def refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.existing_recent():
            self.recent_menu.addAction(path, lambda p=path: self.files.open(Path(p)))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    def closeEvent(self, event) -> None:
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.runner.shutdown()
        self.files.autosave.clear()
        self.save_layout()
        event.accept()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        """A workflow JSON or NodeFlow PNG dropped anywhere on the window (not only the canvas)."""
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.files.dropped(paths)

    def _created(self, default_graph: bool) -> None:
        """File > New: no old images; the default graph framed, the start panel beside it."""
        self.output_viewer.clear()
        self.start.show()
        if default_graph:
            self.view.fit_all()
            self.status("New workflow: text to image. Press Ctrl+Enter to run it")

    def _opened(self, path: Path, notes: list[str], example: bool) -> None:
        self.output_viewer.clear()  # another workflow: the last one's pictures are not its
        for note in notes:
            self.run_panel.log_line(note)
        if example:
            self.status(f"Opened the example {path.stem} (untitled copy)")
        else:
            self.refresh_recent()
            problems = self.run_actions.mark_problems()  # on the nodes at once, not only after Run
            self.status(f"Opened {path.name}" + (f" ({len(notes)} notes in the log)" if notes else "")
                        + (f"; {len(problems)} problem(s) marked on the nodes" if problems else ""))
            from nodeflow.gui.import_report import show_import_report
            from nodeflow.gui.missing_models import offer  # the downloader loads only when a file opens

            self.import_report = show_import_report(self.document.import_report, path.name, self)

            offer(self)
        self.view.fit_all()

    def _saved(self, path: Path) -> None:
        self.refresh_recent()
        self.status(f"Saved {path.name}")

    # -- messages ------------------------------------------------------------------------------

    def status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def report_error(self, title: str, text: str) -> None:
        self.run_panel.log_line(f"{title}: {text}")
        self.status(f"{title}: {text}")
        if self.isVisible():
            QMessageBox.warning(self, title, text)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self).exec()

    def show_node_help(self) -> HelpBrowser:
        """The node reference, open on the selected node's page when one is selected."""
        ids = self.scene.selected_node_ids()
        record = self.document.graph.nodes.get(ids[0]) if ids else None
        self.help_browser = HelpBrowser.show_for(self.help_browser, self.registry, record and record.type, self)
        return self.help_browser

    # -- editing helpers -----------------------------------------------------------------------

    def _add_at_centre(self, type_id: str) -> None:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        node_id = self.document.add_placed(type_id, (centre.x() - 100, centre.y() - 40),
                                           lambda new: land_visible(self.view, new))
        self.scene.select_nodes([node_id])

    def show_node(self, node_id: str) -> None:
        if node_id in self.scene.nodes:
            self.scene.select_nodes([node_id])
            self.view.centerOn(self.scene.nodes[node_id])

    def _rename_selected(self) -> None:
        ids = self.scene.selected_node_ids()
        if len(ids) == 1:
            self.rename_node(ids[0])

    def rename_node(self, node_id: str) -> None:
        item = self.scene.nodes[node_id]
        text, ok = QInputDialog.getText(self, "Rename node", "Title:", text=item.title)
        if ok:
            self.document.rename(node_id, text)

    def _toggle_snap(self, on: bool) -> None:
        self.scene.snap = on

    def _toggle_node_ids(self, on: bool) -> None:
        self.scene.show_ids = on
        for item in self.scene.nodes.values():
            item.update()

    def _toggle_minimap(self, on: bool) -> None:
        self.view.minimap.setVisible(on)

    def _graph_replaced(self) -> None:
        """Another workflow (New, Open, restore): its run table is not this one's. (The output
        images stay, to compare across workflows; File > New clears them.)"""
        self.run_panel.clear()

    # -- running (run_actions.py does the work) -------------------------------------------------

    def run_workflow(self) -> Job | None:
        """Validate, then queue a one-job batch; returns the queued job (None when refused)."""
        return self.run_actions.run()

    def stop(self) -> None:
        self.run_actions.stop()

    def validate(self) -> list:
        return self.run_actions.validate()

    @property
    def output_dir(self) -> Path:
        """Where runs save: the folder the output panel shows (and lets the user change)."""
        return self.output_viewer.output_dir

    def _set_output_dir(self, folder: Path) -> None:
        self.settings.output_dir = str(folder)
        self.settings.save()
        self.status(f"Runs now save into {folder}")

    def send_to_load_image(self, path: Path, mask: str = "") -> str | None:
        return send_to_load_image(self.registry, self.document, self.scene, self.view, path, mask)
