"""Right-click menus of the canvas, a node, a group frame and a wire (canvas/wire_menu.py)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsView, QMenu

from nodeflow.core.graph import NodeMode
from nodeflow.gui import theme
from nodeflow.gui.canvas.group_item import GroupItem
from nodeflow.gui.canvas.node_item import NodeItem
from nodeflow.gui.canvas.scene import NodeScene
from nodeflow.gui.canvas.wire_hits import link_near
from nodeflow.gui.canvas.wire_menu import fill_wire_menu
from nodeflow.gui.edit_actions import EditActions


def show_context_menu(view: QGraphicsView, scene: NodeScene, actions: EditActions, event,
                      open_search: Callable[[QPointF], object], fit_all: Callable[[], None]) -> None:
    """The menu for what is under the mouse: a node, a group frame, a wire, or the empty canvas."""
    pos = view.mapToScene(event.pos())
    item = view.itemAt(event.pos())
    while item is not None and not isinstance(item, (NodeItem, GroupItem)):
        item = item.parentItem()
    menu = QMenu(view)
    if isinstance(item, NodeItem):
        if not item.isSelected():
            scene.select_nodes([item.node_id])
        _node_menu(menu, scene, actions, item)
    elif isinstance(item, GroupItem):
        scene.clearSelection()
        item.setSelected(True)
        menu.addAction("Rename group…", lambda: scene.request_rename_group(item.group_id))
        _color_menu(menu.addMenu("Colour"), actions)
        menu.addAction("Remove group (keep nodes)", actions.delete)
    elif (link := link_near(scene, pos, 6.0 / max(view.transform().m11(), 1e-6))) is not None:
        fill_wire_menu(menu, view, link, pos)
    else:
        menu.addAction("Add node…", lambda: open_search(pos))
        menu.addAction("Paste", lambda: actions.paste(pos))
        menu.addAction("Group selected nodes", actions.group_selection)
        menu.addSeparator()
        menu.addAction("Select all", actions.select_all)
        menu.addAction("Fit all", fit_all)
    menu.exec(event.globalPos())


def _node_menu(menu: QMenu, scene: NodeScene, actions: EditActions, item: NodeItem) -> None:
    menu.addAction("Rename…", lambda: scene.request_rename(item.node_id))
    _color_menu(menu.addMenu("Colour"), actions)
    menu.addAction("Expand" if item.record.ui.get("collapsed") else "Collapse", actions.toggle_collapse)
    menu.addSeparator()
    muted, bypassed = item.record.mode == NodeMode.MUTED, item.record.mode == NodeMode.BYPASS
    menu.addAction("Unmute" if muted else "Mute", lambda: actions.toggle_mode(NodeMode.MUTED))
    menu.addAction("Stop bypassing" if bypassed else "Bypass", lambda: actions.toggle_mode(NodeMode.BYPASS))
    if item.cls is not None:
        params = [i for i in item.cls.inputs if i.is_parameter]
        converted = item.record.ui.get("widget_inputs", [])
        if params:
            sub = menu.addMenu("Convert widget to input")
            for inp in params:
                if inp.name not in converted:
                    sub.addAction(inp.name, lambda n=inp.name: actions.set_converted(item.node_id, n, True))
        if converted:
            sub = menu.addMenu("Convert input to widget")
            for name in converted:
                sub.addAction(name, lambda n=name: actions.set_converted(item.node_id, n, False))
    menu.addSeparator()
    menu.addAction("Copy", actions.copy)
    menu.addAction("Duplicate", actions.duplicate)
    menu.addAction("Group selected nodes", actions.group_selection)
    menu.addAction("Delete", actions.delete)


def _color_menu(menu: QMenu, actions: EditActions) -> None:
    menu.addAction("Default", lambda: actions.set_color(None))
    for name, color in theme.USER_COLORS.items():
        menu.addAction(name, lambda c=color: actions.set_color(c))
