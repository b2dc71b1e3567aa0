"""The main window's menu bar and toolbar, built from its named actions (`MainWindow.actions_`).

The View menu lists every panel: each dock adds its toggle to `window.view_menu` as it is made
(`MainWindow._dock`), so a panel installed later (the Queue) is there too. Toolbar buttons keep
their width: Undo and Redo show a fixed word and carry "Undo Rename (node 6)" in their tooltip,
so Run never moves under the pointer as the undo text changes.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QUndoStack

from nodeflow.core.paths import PROJECT_ROOT


def build_menus(window) -> None:
    a = window.actions_
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for name in ("new", "open"):
        file_menu.addAction(a[name])
    window.recent_menu = file_menu.addMenu("Open &Recent")
    examples = file_menu.addMenu("Open &Example")
    for path in sorted((PROJECT_ROOT / "workflows").glob("*.json")):
        examples.addAction(path.stem.replace("_", " "), lambda p=path: window.files.open_example(p))
    examples.setEnabled(bool(examples.actions()))
    for name in ("save", "save_as", None, "quit"):
        file_menu.addSeparator() if name is None else file_menu.addAction(a[name])
    edit = bar.addMenu("&Edit")
    for name in ("undo", "redo", None, "cut", "copy", "paste", "paste_inputs", "duplicate", "delete", None,
                 "select_all", "group", "rename", "collapse", "mute", "bypass"):
        edit.addSeparator() if name is None else edit.addAction(a[name])
    view = window.view_menu
    first_panel = view.actions()[0] if view.actions() else None
    for name in ("fit_all", "fit_selection", "zoom_in", "zoom_out", "zoom_reset", None,
                 "snap", "node_ids", "minimap", None):
        view.insertSeparator(first_panel) if name is None else view.insertAction(first_panel, a[name])
    bar.addMenu(view)
    run = bar.addMenu("&Run")
    for name in ("run", "stop", "validate"):
        run.addAction(a[name])
    help_menu = bar.addMenu("&Help")
    for name in ("start_panel", "node_help", "shortcuts"):
        help_menu.addAction(a[name])
    tools = window.addToolBar("Main")
    tools.setObjectName("toolbar-main")
    tools.setMovable(False)
    steady = {"undo": SteadyUndoAction(window, window.document.undo, redo=False),
              "redo": SteadyUndoAction(window, window.document.undo, redo=True)}
    for name in ("new", "open", "save", None, "undo", "redo", None, "run", "stop", "memory", None, "fit_all"):
        if name is None:
            tools.addSeparator()
        elif name == "memory":
            tools.addWidget(window.memory_bar)
        else:
            tools.addAction(steady.get(name, a.get(name)))
    window.refresh_recent()


class SteadyUndoAction(QAction):
    """A toolbar Undo (Redo) whose text never changes; the step it undoes is in its tooltip.

    It follows the stack through its own methods (slots of this QObject), so the connections end
    with the action, whichever of the window and the document goes first.
    """

    def __init__(self, parent, stack: QUndoStack, redo: bool):
        self.word = "Redo" if redo else "Undo"
        super().__init__(self.word, parent)
        self.triggered.connect(stack.redo if redo else stack.undo)
        self._can = stack.canRedo() if redo else stack.canUndo()
        self._text = stack.redoText() if redo else stack.undoText()
        (stack.canRedoChanged if redo else stack.canUndoChanged).connect(self._set_can)
        (stack.redoTextChanged if redo else stack.undoTextChanged).connect(self._set_text)
        self._follow()

    def _set_can(self, can: bool) -> None:
        self._can = can
        self._follow()

    def _set_text(self, text: str) -> None:
        self._text = text
        self._follow()

    def _follow(self) -> None:
        self.setEnabled(self._can)
        self.setToolTip(f"{self.word} {self._text}".strip() if self._can else f"Nothing to {self.word.lower()}")
