"""Helpers for GUI tests: real press/move/release on the view's viewport, a shown main window,
waiting for runs, painting in the mask editor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def main_window(qtbot, registry, tmp_path: Path, size: tuple[int, int] = (1400, 900)) -> Iterator:
    """A shown MainWindow over `registry` that runs on the CPU into tmp_path/out and never asks to
    save; its runner is shut down afterwards."""
    from nodeflow.engine import Executor
    from nodeflow.gui.main_window import MainWindow

    win = MainWindow(registry, executor=Executor(registry, device="cpu"), output_dir=tmp_path / "out")
    win.files.ask_save_changes = lambda: "discard"
    qtbot.addWidget(win)
    win.resize(*size)
    with qtbot.waitExposed(win):
        win.show()
    yield win
    win.runner.shutdown()


def wait_done(qtbot, window, timeout: int = 10_000) -> None:
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=timeout)


def start_slow_run(qtbot, window) -> str:
    """Run a 400-step test.slow -> basic.show graph and return once the slow node reports progress
    (so a Stop then lands mid-run); returns the slow node's id."""
    doc = window.document
    slow = doc.add_node("test.slow", (0, 0), {"steps": 400, "delay": 0.02})
    show = doc.add_node("basic.show", (300, 0))
    doc.connect(slow, "value", show, "value")
    window.run_workflow()
    qtbot.waitUntil(lambda: window.scene.nodes[slow].run.progress is not None, timeout=10_000)
    return slow


def paint_stroke_and_accept(qtbot, centre: tuple[float, float], start: tuple[float, float],
                            end: tuple[float, float], brush: int, image_size: tuple[int, int] | None = None) -> None:
    """In the open mask editor dialog: zoom 8x on `centre`, paint one stroke from `start` to `end`
    (image pixels) with a `brush`-pixel brush, press OK. `image_size`: the picture it must show."""
    from PySide6.QtWidgets import QApplication

    from nodeflow.gui.mask_editor.dialog import MaskEditorDialog

    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, MaskEditorDialog)
    view = dialog.view
    if image_size is not None:
        assert (view.image.width(), view.image.height()) == image_size
    view.set_zoom(8.0, QPointF(*centre))
    dialog.size.setValue(brush)
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=view.mapFromScene(QPointF(*start)))
    if end != start:
        qtbot.mouseMove(viewport, view.mapFromScene(QPointF(*end)))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=view.mapFromScene(QPointF(*end)))
    dialog.accept()
