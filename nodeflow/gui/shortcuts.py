"""Keyboard shortcuts (Blender / ComfyUI habits), in one table the menus and Help > Shortcuts use."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout

#: action name -> (keys, description). Keys use QKeySequence's portable text.
SHORTCUTS: dict[str, tuple[tuple[str, ...], str]] = {
    "new": (("Ctrl+N",), "New workflow"),
    "open": (("Ctrl+O",), "Open a workflow or a NodeFlow PNG"),
    "save": (("Ctrl+S",), "Save"),
    "save_as": (("Ctrl+Shift+S",), "Save as"),
    "quit": (("Ctrl+Q",), "Quit"),
    "undo": (("Ctrl+Z",), "Undo"),
    "redo": (("Ctrl+Shift+Z", "Ctrl+Y"), "Redo"),
    "cut": (("Ctrl+X",), "Cut selected nodes"),
    "copy": (("Ctrl+C",), "Copy selected nodes (as workflow JSON)"),
    "paste": (("Ctrl+V",), "Paste at the cursor"),
    "paste_inputs": (("Ctrl+Shift+V",), "Paste, keeping the links into the copied nodes (as in ComfyUI)"),
    "duplicate": (("Ctrl+D", "Shift+D"), "Duplicate selected nodes"),
    "delete": (("Delete", "Backspace", "X"), "Delete selected nodes and frames"),
    "select_all": (("Ctrl+A",), "Select all nodes"),
    "group": (("Ctrl+G",), "Put selected nodes in a group frame"),
    "mute": (("Ctrl+M",), "Mute / unmute selected nodes"),
    "bypass": (("Ctrl+B",), "Bypass selected nodes"),
    "collapse": (("Alt+C",), "Collapse / expand selected nodes"),
    "rename": (("F2",), "Rename the selected node"),
    "run": (("Ctrl+Return", "Ctrl+Enter"), "Run the workflow"),
    "stop": (("Esc",), "Stop the run"),
    "validate": (("F7",), "Check the workflow without running it"),
    "fit_all": (("Home", "."), "Frame all nodes"),
    "fit_selection": (("F",), "Frame the selected nodes"),
    "zoom_in": (("Ctrl+=", "Ctrl++"), "Zoom in"),
    "zoom_out": (("Ctrl+-",), "Zoom out"),
    "zoom_reset": (("Ctrl+0",), "Zoom to 100%"),
    "snap": (("Ctrl+Shift+G",), "Snap nodes to the grid"),
    "node_ids": (("Ctrl+I",), "Show node ids before the titles (what Sweep and --set name)"),
    "node_help": (("F1",), "Node reference: every node's documentation (the selected node's page)"),
    "shortcuts": (("Ctrl+F1",), "This list"),
}

#: Canvas gestures, listed for the Help dialog (they are not menu actions).
GESTURES = (
    ("Tab / double-click on the canvas", "Search and add a node at the cursor"),
    ("Drag output → input", "Connect (incompatible sockets dim; replacing an existing link)"),
    ("Drag from a linked input", "Pick the wire up: move it elsewhere or drop it to detach"),
    ("Release a wire on empty canvas", "Search nodes that fit, and connect the chosen one"),
    ("Drop a node on a wire", "Insert it into the wire"),
    ("Ctrl + right-drag", "Cut the wires you cross"),
    ("Click a wire, Delete", "Remove that wire"),
    ("Double-click / Alt+click a wire", "Put a reroute dot on it (drag the dot's middle to move it)"),
    ("Drag a node's corner", "Resize it"),
    ("Middle-drag / Space + drag", "Pan"),
    ("Wheel", "Zoom around the cursor"),
    ("Drag on empty canvas", "Rubber-band select (Ctrl/Shift-click adds)"),
    ("Arrow keys", "Nudge selected nodes"),
    ("Drag a number sideways", "Change it (one undo step per drag)"),
)


class ShortcutsDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        tree = QTreeWidget()
        tree.setHeaderLabels(["Keys", "Action"])
        tree.setRootIsDecorated(False)
        for keys, description in SHORTCUTS.values():
            QTreeWidgetItem(tree, [" / ".join(keys), description])
        for keys, description in GESTURES:
            QTreeWidgetItem(tree, [keys, description])
        tree.setColumnWidth(0, 220)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tree)
        layout.addWidget(buttons)
        self.tree = tree
        self.resize(620, 560)
