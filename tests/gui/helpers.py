"""Mouse helpers for GUI tests: real press/move/release on the view's viewport."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt


def vp(view, scene_point: QPointF) -> QPoint:
    return view.mapFromScene(scene_point)


def drag(qtbot, view, start: QPointF, end: QPointF, button=Qt.MouseButton.LeftButton, steps: int = 4) -> None:
    """Press at `start`, move in a few steps, release at `end` (scene coordinates)."""
    viewport = view.viewport()
    a, b = vp(view, start), vp(view, end)
    qtbot.mousePress(viewport, button, pos=a)
    for i in range(1, steps + 1):
        qtbot.mouseMove(viewport, QPoint(a.x() + (b.x() - a.x()) * i // steps, a.y() + (b.y() - a.y()) * i // steps))
    qtbot.mouseRelease(viewport, button, pos=b)


def socket(window, node_id: str, name: str, is_output: bool) -> QPointF:
    return window.scene.nodes[node_id].socket_scene_pos(name, is_output)


def wire(qtbot, window, src: str, out: str, dst: str, inp: str) -> None:
    drag(qtbot, window.view, socket(window, src, out, True), socket(window, dst, inp, False))
