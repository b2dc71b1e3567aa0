"""The canvas scene: one item per node, link and group of the document's graph, kept in step
with the graph's signals (QtNodes style). It never edits the graph except through the document.

The scene is the `CanvasHost` its items are built with (canvas/host.py): items ask it for the
graph, wire rules, grid and linked inputs and edit through `edits` (the document). When a mouse
release ends a drag, the scene writes the moved nodes and frames to the graph as one undo step.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QToolTip

from nodeflow.core.graph import Graph, Link, NodeRecord
from nodeflow.core.paths import default_search_dirs, resolve_path
from nodeflow.gui.auto_layout import auto_positions
from nodeflow.gui.canvas.group_item import GroupItem
from nodeflow.gui.canvas.link_item import LinkItem
from nodeflow.gui.canvas.node_item import NodeItem
from nodeflow.gui.canvas.rect_index import RectIndex
from nodeflow.gui.canvas.wire_hits import link_near, splice_target
from nodeflow.gui.document import Document
from nodeflow.gui.wire_rules import SocketRef, WireRules

SCENE_EXTENT = 200_000.0


class NodeScene(QGraphicsScene):
    rename_requested = Signal(str)
    rename_group_requested = Signal(str)
    message = Signal(str)

    def __init__(self, document: Document, cache_mode=QGraphicsItem.CacheMode.DeviceCoordinateCache):
        super().__init__()
        self.document = document
        self.cache_mode = cache_mode
        self.setSceneRect(QRectF(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.graph: Graph = document.graph
        self.nodes: dict[str, NodeItem] = {}
        self.links: dict[tuple[str, str], LinkItem] = {}
        self.groups: dict[str, GroupItem] = {}
        self._links_of: dict[str, set[tuple[str, str]]] = {}
        self._node_rects: dict[str, QRectF] = {}  # where each node was when its wires were last laid
        self._node_index: RectIndex[str] = RectIndex()  # where each node is (routing asks it)
        self._link_index: RectIndex[tuple[str, str]] = RectIndex()  # where each wire is drawn
        self.fallback_pos: dict[str, list[float]] = {}
        self.wire_rules: WireRules | None = None
        self._hovered_socket: SocketRef | None = None  # whose compatible sockets show (show_compatible)
        self.selected_link: tuple[str, str] | None = None  # (dst, dst_input) of a clicked wire
        self.snap = False
        self.show_ids = False
        self.grid = 20.0
        self._handlers = {
            "node_added": self._on_node_added, "node_removed": self._on_node_removed,
            "link_added": self._on_link_added, "link_removed": self._on_link_removed,
            "param_changed": self._on_param_changed, "node_changed": self._on_node_changed,
            "group_changed": self._on_group_changed,
        }
        document.graph_replaced.connect(self.rebuild)
        self.rebuild()

    # -- building ------------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Drop every item and build them again from the document's (new) graph."""
        for name, handler in self._handlers.items():
            try:
                getattr(self.graph, name).disconnect(handler)
            except ValueError:
                pass
        for item in self.nodes.values():
            item.widgets.close_editor()
        self.clear()
        self.nodes, self.links, self.groups, self._links_of = {}, {}, {}, {}
        self._node_rects = {}
        self._node_index, self._link_index = RectIndex(), RectIndex()
        self.selected_link = None
        self.graph = self.document.graph
        self.fallback_pos = auto_positions(self.graph)
        for name, handler in self._handlers.items():
            getattr(self.graph, name).connect(handler)
        for src, _out, dst, inp in ((k.src, k.src_output, k.dst, k.dst_input) for k in self.graph.iter_links()):
            self._links_of.setdefault(src, set()).add((dst, inp))
            self._links_of.setdefault(dst, set()).add((dst, inp))
        for group in self.graph.groups.values():
            self._add_group_item(group.id)
        for record in self.graph.nodes.values():
            self._add_node_item(record)
        for link in self.graph.iter_links():
            self._add_link_item(link)

    def _add_node_item(self, record: NodeRecord) -> NodeItem:
        item = NodeItem(self, record)
        self.nodes[record.id] = item
        self.addItem(item)
        self.update_links_of(record.id)  # wires already there go around it
        if item.cls is not None and any(i.file for i in item.cls.inputs):
            item.load_file_thumbnail()
        return item

    def resolve_file(self, name: str) -> Path | None:
        """A file named by a parameter, looked up like the engine does (workflow folder first)."""
        folder = self.document.path.parent if self.document.path else None
        path = resolve_path(name, default_search_dirs(folder))
        return path if path.is_file() else None

    def _add_link_item(self, link: Link) -> None:
        type_name = self.graph.output_type(link.src, link.src_output)  # through reroutes
        if type_name is None:
            dst_cls = self.graph.node_class(link.dst)
            inp = dst_cls.input(link.dst_input) if dst_cls else None
            type_name = inp.type if inp else "*"
        item = LinkItem(link, type_name)
        key = (link.dst, link.dst_input)
        self.links[key] = item
        self._links_of.setdefault(link.src, set()).add(key)
        self._links_of.setdefault(link.dst, set()).add(key)
        self.addItem(item)
        self._place_link(item)

    def _add_group_item(self, group_id: str) -> None:
        item = GroupItem(self, self.graph.groups[group_id])
        self.groups[group_id] = item
        self.addItem(item)

    def _place_link(self, item: LinkItem) -> None:
        link = item.link
        src, dst = self.nodes.get(link.src), self.nodes.get(link.dst)
        if src is None or dst is None:
            return
        nodes = self._node_index
        item.set_ends(src.socket_scene_pos(link.src_output, True), dst.socket_scene_pos(link.dst_input, False),
                      lambda area: [nodes.rect(i) for i in nodes.query(area) if i not in (link.src, link.dst)])
        self._link_index.set((link.dst, link.dst_input), item.path().boundingRect())

    def linked_inputs(self, node_id: str) -> set[str]:
        """Names of the inputs of `node_id` that have a link (from the scene's own index)."""
        return {inp for dst, inp in self._links_of.get(node_id, ()) if dst == node_id}

    def update_links_of(self, node_id: str) -> None:
        """The node moved or changed size: lay its wires again, and the wires that passed where it
        was or now is (they go around it, or need not any more). While the mouse drags it, other
        wires stay put, so it can be dropped onto one (`commit_moves`); the drop lays them."""
        keys = set(self._links_of.get(node_id, ()))
        node = self.nodes.get(node_id)
        now = node.sceneBoundingRect() if node is not None else None
        if now is not None:
            self._node_index.set(node_id, now)
        if now is not None and self.mouseGrabberItem() is None:
            area = now.united(self._node_rects.get(node_id, now))
            self._node_rects[node_id] = now
            keys.update(self._link_index.query(area))
        for key in keys:
            item = self.links.get(key)
            if item is not None:
                self._place_link(item)

    # -- following the graph -------------------------------------------------------------------

    def _on_node_added(self, record: NodeRecord) -> None:
        self._add_node_item(record)

    def _on_node_removed(self, record: NodeRecord) -> None:
        item = self.nodes.pop(record.id, None)
        if item is not None:
            item.widgets.close_editor()
            self.removeItem(item)
        self._links_of.pop(record.id, None)
        self._node_rects.pop(record.id, None)
        self._node_index.remove(record.id)
        if item is not None:
            for key in self._link_index.query(item.sceneBoundingRect()):  # no detour around it now
                if key in self.links:
                    self._place_link(self.links[key])

    def _on_link_added(self, link: Link) -> None:
        self._add_link_item(link)
        dst = self.nodes.get(link.dst)
        if dst is not None and dst.cls is not None and dst.cls.input(link.dst_input) is not None \
                and dst.cls.input(link.dst_input).is_parameter:
            dst.relayout()
        self._follow_carried_type(link.dst)

    def _on_link_removed(self, link: Link) -> None:
        key = (link.dst, link.dst_input)
        if key == self.selected_link:
            self.selected_link = None
        item = self.links.pop(key, None)
        if item is not None:
            self.removeItem(item)
        self._link_index.remove(key)
        for node_id in (link.src, link.dst):
            self._links_of.get(node_id, set()).discard(key)
        dst = self.nodes.get(link.dst)
        if dst is not None:
            dst.relayout()
        self._follow_carried_type(link.dst)

    def _follow_carried_type(self, node_id: str) -> None:
        """What reaches a reroute changed: recolour it, its wires out and the reroutes after it."""
        todo, seen = [node_id], set()
        while todo:
            current = todo.pop()
            item = self.nodes.get(current)
            if current in seen or item is None or not item.layout.dot:
                continue
            seen.add(current)
            item.relayout()
            for key in self._links_of.get(current, ()):
                link_item = self.links.get(key)
                if link_item is not None and link_item.link.src == current:
                    link = link_item.link
                    link_item.set_type(self.graph.output_type(link.src, link.src_output) or "*")
                    todo.append(link.dst)

    def _on_param_changed(self, node_id: str, name: str, value) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            inp = item.cls.input(name) if item.cls else None
            if inp is not None and (inp.file or inp.widget == "mask"):  # the preview shows the painted mask
                item.load_file_thumbnail()
            item.update()

    def _on_node_changed(self, node_id: str, what: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.sync()

    def _on_group_changed(self, group_id: str) -> None:
        item = self.groups.get(group_id)
        if group_id not in self.graph.groups:
            if item is not None:
                self.removeItem(item)
                del self.groups[group_id]
        elif item is None:
            self._add_group_item(group_id)
        else:
            item.group = self.graph.groups[group_id]
            item.sync()

    # -- edits that start on the canvas --------------------------------------------------------

    @property
    def edits(self) -> Document:
        return self.document

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        self.commit_moves()
        for node_id, item in self.nodes.items():  # the dragged nodes: wires where they were and are
            if self._node_rects.get(node_id) != item.sceneBoundingRect():
                self.update_links_of(node_id)

    def commit_moves(self) -> None:
        """After a drag: write moved nodes and frames to the graph as one undo step."""
        moves = {}
        for node_id, item in self.nodes.items():
            pos = [round(item.pos().x()), round(item.pos().y())]
            old = item.record.ui.get("pos")
            if old is None or [round(old[0]), round(old[1])] != pos:
                if old is None and list(self.fallback_pos.get(node_id, [])) == pos:
                    continue
                moves[node_id] = (old, pos)
        group_moves = {}
        for group_id, item in self.groups.items():
            x, y, w, h = item.group.rect
            new = [round(item.pos().x()), round(item.pos().y()), w, h]
            if new[:2] != [round(x), round(y)]:
                group_moves[group_id] = (list(item.group.rect), new)
        if not moves and not group_moves:
            return
        if len(moves) == 1 and not group_moves:  # a single node dropped onto a wire goes into it
            node_id = next(iter(moves))
            item = self.nodes[node_id]
            target = splice_target(self, self.graph, node_id, item.mapToScene(item.body_rect().center()))
            if target is not None:
                self.document.splice(node_id, moves[node_id], *target)
                return
        self.document.move(moves, group_moves)

    def helpEvent(self, event) -> None:
        """Over a wire, its tooltip: the type it carries and the two ends (canvas/wire_menu.py)."""
        from nodeflow.gui.canvas.wire_menu import describe_wire

        view = event.widget().parent() if event.widget() is not None else None
        zoom = view.transform().m11() if view is not None and hasattr(view, "transform") else 1.0
        link = link_near(self, event.scenePos(), 6.0 / max(zoom, 1e-6))
        if link is not None and self.node_at(event.scenePos()) is None:
            QToolTip.showText(event.screenPos(), describe_wire(self.graph, link), event.widget())
            event.accept()
            return
        super().helpEvent(event)

    def select_link(self, key: tuple[str, str] | None) -> None:
        """Highlight one wire (Delete then removes it); None clears the highlight."""
        if self.selected_link in self.links:
            self.links[self.selected_link].set_highlighted(False)
        self.selected_link = key if key in self.links else None
        if self.selected_link is not None:
            self.clearSelection()
            self.links[self.selected_link].set_highlighted(True)

    def nodes_inside(self, rect: QRectF) -> list[NodeItem]:
        return [item for item in self.nodes.values() if rect.contains(item.sceneBoundingRect().center())
                and rect.contains(item.mapToScene(QPointF(0, 0)))]

    def node_at(self, scene_pos: QPointF) -> NodeItem | None:
        for item in self.items(scene_pos):
            if isinstance(item, NodeItem):
                return item
        return None

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_group_ids(self) -> list[str]:
        return [i.group_id for i in self.selectedItems() if isinstance(i, GroupItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    # -- view state that is not part of the workflow -------------------------------------------

    def request_rename(self, node_id: str) -> None:
        self.rename_requested.emit(node_id)

    def request_rename_group(self, group_id: str) -> None:
        self.rename_group_requested.emit(group_id)

    def show_message(self, text: str) -> None:
        self.message.emit(text)

    def set_wire_rules(self, rules: WireRules | None) -> None:
        self.wire_rules = rules
        self._hovered_socket = None
        for item in self.nodes.values():
            item.update()

    def show_compatible(self, sock: SocketRef | None) -> None:
        """Hovering a socket dims every socket a wire from it could not reach, as a drag does;
        None (the pointer left it) undims. A drag in progress keeps its own rules."""
        hovered = self._hovered_socket
        if sock is None:
            if hovered is not None:
                self.set_wire_rules(None)
        elif sock != hovered and (self.wire_rules is None or hovered is not None):
            self.set_wire_rules(WireRules(self.graph, sock))
            self._hovered_socket = sock

    def set_cache_mode(self, mode) -> None:
        self.cache_mode = mode
        for item in self.nodes.values():
            item.setCacheMode(mode)

    def suspend_item_cache(self, suspended: bool) -> None:
        """Paint nodes directly while a zoom gesture runs: each zoom step would otherwise render
        every visible node into a new cache pixmap that the next step throws away."""
        if self.cache_mode == QGraphicsItem.CacheMode.NoCache:
            return
        mode = QGraphicsItem.CacheMode.NoCache if suspended else self.cache_mode
        for item in self.nodes.values():
            if item.cacheMode() != mode:  # setting the same mode again would drop a good cache
                item.setCacheMode(mode)
