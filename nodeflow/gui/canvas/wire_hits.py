"""Which wire lies at a place on the canvas: near a click, across a cut stroke, under a dropped
node. Wires are tested by points sampled along their drawn path, so a wire routed around nodes
(`wire_route`) is found where it is drawn."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QGraphicsScene

from nodeflow.core.graph import Graph, Link
from nodeflow.gui.canvas.geometry import distance_to_polyline, segments_cross
from nodeflow.gui.canvas.link_item import LinkItem
from nodeflow.gui.wire_rules import insertion_on_link


def link_near(scene: QGraphicsScene, pos: QPointF, tolerance: float) -> Link | None:
    """The wire passing within `tolerance` of `pos`, nearest first."""
    probe = QRectF(pos.x() - tolerance, pos.y() - tolerance, 2 * tolerance, 2 * tolerance)
    best, best_d = None, tolerance
    for item in scene.items(probe, Qt.ItemSelectionMode.IntersectsItemBoundingRect):
        if isinstance(item, LinkItem) and item.isVisible():
            points = [(p.x(), p.y()) for p in item.samples(48)]
            d = distance_to_polyline((pos.x(), pos.y()), points)
            if d <= best_d:
                best, best_d = item.link, d
    return best


def links_crossing(scene: QGraphicsScene, points: list[QPointF]) -> list[Link]:
    """Links whose wire crosses the polyline `points` (the cut gesture)."""
    segments = [((a.x(), a.y()), (b.x(), b.y())) for a, b in zip(points, points[1:], strict=False)]
    if not segments:
        return []
    xs = [p.x() for p in points]
    ys = [p.y() for p in points]
    area = QRectF(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)
    hit = []
    for item in scene.items(area, Qt.ItemSelectionMode.IntersectsItemBoundingRect):
        if not isinstance(item, LinkItem):
            continue
        samples = [(p.x(), p.y()) for p in item.samples()]
        wire = list(zip(samples, samples[1:], strict=False))
        if any(segments_cross(a, b, c, d) for a, b in segments for c, d in wire):
            hit.append(item.link)
    return hit


def splice_target(scene: QGraphicsScene, graph: Graph, node_id: str,
                  centre: QPointF) -> tuple[Link, tuple[str, str]] | None:
    """The wire an unlinked node dropped with its body centre at `centre` goes into, with the
    node's input and output that take it (`wire_rules.insertion_on_link`); None if none."""
    probe = QRectF(centre.x() - 12, centre.y() - 12, 24, 24)
    for item in scene.items(probe, Qt.ItemSelectionMode.IntersectsItemBoundingRect):
        if isinstance(item, LinkItem) and any(probe.contains(p) for p in item.samples(64)):
            sockets = insertion_on_link(graph, node_id, item.link)
            if sockets is not None:
                return item.link, sockets
    return None
