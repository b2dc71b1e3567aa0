"""Where a wire goes: an S-curve from output to input that bends around the nodes in its way.

A wire drawn straight through a node hides behind it, and the reader cannot tell which node it
feeds. So a wire whose plain curve would cross other nodes passes over or under them (whichever
is the shorter way) on a straight run a margin away, joined to its sockets by S-curves, which are
routed again the same way a few levels deep. A wire that runs backwards (an input left of its
output) keeps its plain loop. Only rectangles are known here: the scene says which nodes lie in
an area (`Obstacles`), so this is plain geometry, tested without a canvas.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath

#: Rectangles of the nodes (other than the wire's own two) that intersect the given area.
Obstacles = Callable[[QRectF], list[QRectF]]

MARGIN = 14.0  # how far a detour keeps from the node it passes
ROUTE_DEPTH = 2  # how many times the S-curves of a detour are routed again
SAMPLES = 24


def curve(a: QPointF, b: QPointF) -> QPainterPath:
    """The plain S-curve from an output at `a` to an input at `b`, leaving and arriving level."""
    path = QPainterPath(a)
    _curve_to(path, a, b)
    return path


def _curve_to(path: QPainterPath, a: QPointF, b: QPointF) -> None:
    dx = max(abs(b.x() - a.x()) * 0.5, 40.0)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)


def route(a: QPointF, b: QPointF, obstacles: Obstacles | None) -> QPainterPath:
    """The wire from `a` to `b`: the plain curve, or one that goes around the nodes it would cross."""
    if obstacles is None or b.x() <= a.x():
        return curve(a, b)
    points = _waypoints(a, b, obstacles, ROUTE_DEPTH)
    path = QPainterPath(a)
    for i in range(1, len(points)):
        p, q = points[i - 1], points[i]
        if i % 2 == 0:  # a straight run past the nodes, between two S-curves
            path.lineTo(q)
        else:
            _curve_to(path, p, q)
    return path


def _waypoints(a: QPointF, b: QPointF, obstacles: Obstacles, depth: int) -> list[QPointF]:
    """[a, ..., b]: pairs joined by S-curves, alternating with straight runs (see `route`)."""
    plain = curve(a, b)
    hits = _crossed(plain, obstacles(plain.boundingRect().adjusted(-1, -1, 1, 1)))  # a level wire has no height
    if not hits or depth < 0:
        return [a, b]
    band = _united(hits).adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    for _ in range(4):  # a run that grazes more nodes takes them into the band too
        y = _side(band, a, b)
        left, right = max(band.left(), a.x() + MARGIN), min(band.right(), b.x() - MARGIN)
        if right - left < MARGIN:
            return [a, b]  # no room for a run: the nodes sit on the sockets themselves
        run = QRectF(left, y - 1, right - left, 2)
        more = [r for r in obstacles(run) if not band.contains(r)]
        if not more:
            break
        band = band.united(_united(more).adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))
    start, end = QPointF(left, y), QPointF(right, y)
    return _waypoints(a, start, obstacles, depth - 1) + _waypoints(end, b, obstacles, depth - 1)


def _crossed(path: QPainterPath, rects: list[QRectF]) -> list[QRectF]:
    """The rectangles that some point of `path` (sampled) lies in."""
    if not rects:
        return []
    points = [path.pointAtPercent(i / SAMPLES) for i in range(1, SAMPLES)]
    return [r for r in rects if any(r.contains(p) for p in points)]


def _united(rects: list[QRectF]) -> QRectF:
    out = QRectF(rects[0])
    for r in rects[1:]:
        out = out.united(r)
    return out


def _side(band: QRectF, a: QPointF, b: QPointF) -> float:
    """The band's top or bottom edge, whichever makes the wire climb and fall less."""
    top, bottom = band.top(), band.bottom()
    cost_top = abs(a.y() - top) + abs(b.y() - top)
    cost_bottom = abs(a.y() - bottom) + abs(b.y() - bottom)
    return top if cost_top <= cost_bottom else bottom
