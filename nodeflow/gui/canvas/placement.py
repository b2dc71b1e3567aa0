"""Where a new node goes so that all of it is on screen and nothing covers it.

A node added at the cursor (search popup, wire drop, palette drop near an edge) would otherwise
stick out of the view or land under the minimap. The rule: keep the wanted point if the node fits
there; otherwise slide it the least distance that brings it fully inside the visible area and
clear of the overlays (minimap, start panel), preferring to stay near where it was asked for.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSizeF

MARGIN = 12.0


def place(wanted: QPointF, size: QSizeF, visible: QRectF, covered: list[QRectF]) -> QPointF:
    """The top-left for a node of `size` (scene units) asked for at `wanted` (its top-left).

    `visible` is the view's scene rectangle and `covered` the overlays, both in scene units. When
    the node cannot avoid every overlay (a view smaller than the node), it is only kept inside the
    view, top-left first.
    """
    area = visible.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
    candidates = [_inside(wanted, size, area)]
    for cover in covered:
        grown = cover.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        start = candidates[0]
        candidates += [  # just left of, above, right of, below the overlay
            _inside(QPointF(grown.left() - size.width(), start.y()), size, area),
            _inside(QPointF(start.x(), grown.top() - size.height()), size, area),
            _inside(QPointF(grown.right(), start.y()), size, area),
            _inside(QPointF(start.x(), grown.bottom()), size, area),
        ]
    free = [c for c in candidates if not any(QRectF(c, size).intersects(r) for r in covered)]
    if not free:
        free = _free_spots(candidates[0], size, area, covered)
    if not free:
        return candidates[0]
    return min(free, key=lambda c: (c - wanted).manhattanLength())


def _free_spots(start: QPointF, size: QSizeF, area: QRectF, covered: list[QRectF]) -> list[QPointF]:
    """Spots on a grid over `area` where a `size` rectangle covers nothing, nearest to `start` first
    (for a view crowded with nodes, where sliding past one lands on the next)."""
    step = max(MARGIN * 2, min(size.width(), size.height()) / 2)
    spots = []
    y = area.top()
    while y + size.height() <= area.bottom():
        x = area.left()
        while x + size.width() <= area.right():
            spots.append(QPointF(x, y))
            x += step
        y += step
    spots.sort(key=lambda c: (c - start).manhattanLength())
    grown = [r.adjusted(-MARGIN / 2, -MARGIN / 2, MARGIN / 2, MARGIN / 2) for r in covered]
    return [c for c in spots[:4000] if not any(QRectF(c, size).intersects(r) for r in grown)][:1]


def _inside(point: QPointF, size: QSizeF, area: QRectF) -> QPointF:
    """`point` moved so a `size` rectangle there lies in `area` (its top-left wins if too small)."""
    x = min(point.x(), area.right() - size.width())
    y = min(point.y(), area.bottom() - size.height())
    return QPointF(max(x, area.left()), max(y, area.top()))


def land_visible(view, node_id: str) -> None:
    """Slide a node just added to the canvas `view` (a NodeView) so all of it is on screen, clear
    of the minimap and of the other nodes in view. Call it inside the adding undo step, so adding
    and sliding undo as one."""
    item = view.node_scene.nodes.get(node_id)
    if item is None:
        return
    rect = item.sceneBoundingRect()
    visible = view.visible_scene_rect()
    # never on top of another node in view
    covered = [other.sceneBoundingRect() for other_id, other in view.node_scene.nodes.items()
               if other_id != node_id and other.sceneBoundingRect().intersects(visible)]
    if view.minimap.isVisible():
        on_viewport = view.minimap.geometry().translated(-view.viewport().pos())
        covered.append(view.mapToScene(on_viewport).boundingRect())
    pos = place(rect.topLeft(), rect.size(), visible, covered)
    delta = pos - rect.topLeft()
    if delta.manhattanLength() >= 1:
        document = view.document
        old = list(document.graph.nodes[node_id].ui.get("pos") or [rect.left(), rect.top()])
        document.move({node_id: (old, [round(old[0] + delta.x()), round(old[1] + delta.y())])})
