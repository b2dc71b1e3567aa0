"""Plane geometry the canvas gestures need: the cut gesture against wires, clicks near a wire."""

from __future__ import annotations

Point = tuple[float, float]


def segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segment a-b crosses segment c-d (the cut-links gesture against a wire)."""

    def orient(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2 = orient(c, d, a), orient(c, d, b)
    d3, d4 = orient(a, b, c), orient(a, b, d)
    if d1 == d2 == 0:  # collinear: treat as not crossing
        return False
    return d1 * d2 <= 0 and d3 * d4 <= 0


def distance_to_polyline(p: Point, points: list[Point]) -> float:
    """Shortest distance from `p` to a polyline (clicking near a wire selects it)."""
    best = float("inf")
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / length2))
        cx, cy = ax + t * dx, ay + t * dy
        best = min(best, ((p[0] - cx) ** 2 + (p[1] - cy) ** 2) ** 0.5)
    return best
