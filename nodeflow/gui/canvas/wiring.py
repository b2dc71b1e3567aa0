"""A wire being dragged: from an output to an input (or back), or pulled off an input.

The view feeds it scene positions; the decisions (may it connect? what happens on release?) come
from `wire_rules.WireRules` and land in the document as undo steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF

from nodeflow.core.graph import Link
from nodeflow.gui.canvas.link_item import WireDragItem
from nodeflow.gui.canvas.scene import NodeScene
from nodeflow.gui.canvas.wire_route import curve
from nodeflow.gui.wire_rules import SocketRef, WireRules, socket_type


@dataclass
class WireResult:
    """What a release did: "connected", "refused" (with the reason), "detached" or "empty"."""

    outcome: str
    message: str = ""
    start: SocketRef | None = None
    type_name: str | None = None


class WireDrag:
    def __init__(self, scene: NodeScene, start: SocketRef, detached: Link | None = None):
        self.scene = scene
        self.start = start
        self.detached = detached  # the link pulled off an input, hidden until the release
        graph = scene.graph
        self.rules = WireRules(graph, start)
        self.type_name = socket_type(graph, start) or "*"
        self.anchor = scene.nodes[start.node_id].socket_scene_pos(start.name, start.is_output)
        self.item = WireDragItem(self.type_name)
        scene.addItem(self.item)
        if detached is not None:
            scene.links[(detached.dst, detached.dst_input)].setVisible(False)
        scene.set_wire_rules(self.rules)
        self.move(self.anchor)

    @classmethod
    def begin(cls, scene: NodeScene, ref: SocketRef) -> WireDrag:
        """Pressing on a linked input picks its wire up; on anything else a new wire starts."""
        if not ref.is_output:
            link = scene.graph.link_into(ref.node_id, ref.name)
            if link is not None:
                return cls(scene, SocketRef(link.src, link.src_output, True), detached=link)
        return cls(scene, ref)

    def move(self, pos: QPointF) -> None:
        a, b = (self.anchor, pos) if self.start.is_output else (pos, self.anchor)
        self.item.setPath(curve(a, b))

    def target_at(self, pos: QPointF) -> SocketRef | None:
        node = self.scene.node_at(pos)
        if node is None:
            for item in self.scene.nodes.values():  # sockets stick out of the node's body
                if item.sceneBoundingRect().contains(pos):
                    node = item
                    break
        if node is None:
            return None
        ref = node.socket_at(node.mapFromScene(pos), radius=12.0)
        if ref is None and node.node_id != self.start.node_id:
            ref = self.rules.best_socket_on(node.node_id)
        return ref

    def finish(self, pos: QPointF) -> WireResult:
        self._cleanup()
        doc = self.scene.document
        target = self.target_at(pos)
        if target is None or target == self.start:
            if self.detached is not None:
                doc.disconnect(self.detached.dst, self.detached.dst_input)
                return WireResult("detached")
            if target == self.start:
                return WireResult("refused", "")
            return WireResult("empty", start=self.start, type_name=self.type_name)
        connection = self.rules.connection(target)
        if connection is None:
            try:
                a, b = (self.start, target) if self.start.is_output else (target, self.start)
                doc.graph.check_connection(a.node_id, a.name, b.node_id, b.name)
                message = "these sockets cannot be linked"
            except Exception as exc:  # GraphEditError, or a socket direction mismatch
                message = str(exc)
            return WireResult("refused", message)
        if self.detached is not None and (connection[2], connection[3]) != (self.detached.dst,
                                                                             self.detached.dst_input):
            error = doc.move_link(self.detached, *connection)
        else:
            error = doc.connect(*connection)
        return WireResult("refused", error) if error else WireResult("connected")

    def cancel(self) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        self.scene.set_wire_rules(None)
        if self.item.scene() is not None:
            self.scene.removeItem(self.item)
        if self.detached is not None:
            key = (self.detached.dst, self.detached.dst_input)
            if key in self.scene.links:
                self.scene.links[key].setVisible(True)
