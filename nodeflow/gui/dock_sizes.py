"""How big the panels around the canvas start, in proportion to the window.

Fixed widths made for 1500x900 leave a 1280x720 window a canvas too small to read a graph in; these
proportions keep most of any window for the canvas. A layout saved by the user wins over them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QWidget

#: The size a new window asks for; a smaller screen gets its whole available area instead.
PREFERRED_SIZE = (1500, 900)


def fit_to_screen(window: QMainWindow) -> None:
    """Start at PREFERRED_SIZE, but never larger than the screen's available area: a window wider
    than a 1280x720 screen hides its right-hand panels past the screen's edge."""
    width, height = PREFERRED_SIZE
    screen = window.screen()
    if screen is not None:
        available = screen.availableGeometry()
        width, height = min(width, available.width()), min(height, available.height())
    window.resize(width, height)


def keep_on_screen(window: QMainWindow) -> None:
    """Move a restored window back inside its screen's available area, shrinking it if it is larger.
    A geometry saved on a bigger screen, or restored without a window manager to place it (Xvfb put
    it 25 px lower on each start), otherwise leaves the status bar and the run panel below the edge."""
    screen = window.screen()
    if screen is None:
        return
    area = screen.availableGeometry()
    frame = window.frameGeometry()
    border_w, border_h = frame.width() - window.width(), frame.height() - window.height()
    width, height = min(window.width(), area.width() - border_w), min(window.height(), area.height() - border_h)
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
        frame = window.frameGeometry()
    x = max(area.left(), min(frame.x(), area.right() + 1 - frame.width()))
    y = max(area.top(), min(frame.y(), area.bottom() + 1 - frame.height()))
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)


#: Below this window height the right column cannot show the Inspector and the Output one above
#: the other (a 1280x720 screen gave the Inspector 110 px): they become tabs of the whole column.
STACK_MIN_HEIGHT = 800


def size_docks(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Palette, inspector/output column and run panel sized for the window's current size."""
    w, h = window.width(), window.height()
    if h < STACK_MIN_HEIGHT and docks["output"] not in window.tabifiedDockWidgets(docks["inspector"]):
        window.tabifyDockWidget(docks["inspector"], docks["output"])
        docks["inspector"].raise_()
    window.resizeDocks([docks["palette"], docks["inspector"]],
                       [min(250, max(200, w // 6)), min(380, max(320, w // 4))], Qt.Orientation.Horizontal)
    window.resizeDocks([docks["run"]], [min(200, max(130, h // 5))], Qt.Orientation.Vertical)
    window.resizeDocks([docks["inspector"], docks["output"]], [h // 2, h // 2], Qt.Orientation.Vertical)


def tab_start_with_palette(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """A layout saved before the Start tab existed leaves it beside the palette: tab them again."""
    start, palette = docks["start"], docks["palette"]
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    if (window.dockWidgetArea(start) == left == window.dockWidgetArea(palette) and not start.isFloating()
            and start not in window.tabifiedDockWidgets(palette)):
        window.tabifyDockWidget(palette, start)


class _OnFirstShow(QObject):
    def __init__(self, window: QMainWindow, docks: dict[str, QDockWidget]):
        super().__init__(window)
        self.docks = docks
        window.installEventFilter(self)

    def eventFilter(self, window, event) -> bool:
        if event.type() == QEvent.Type.Show:
            window.removeEventFilter(self)
            size_docks(window, self.docks)
        return False


def size_docks_when_shown(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Size the panels when the window is first shown (its size is final then, not at construction)."""
    _OnFirstShow(window, docks)


def scrolling(widget: QWidget) -> QScrollArea:
    """`widget` in a scroll area: a tall panel tabbed beside a short one must not raise the
    window's minimum height above a 1280x720 screen; it scrolls instead."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


def raise_when_tabbed(window: QMainWindow, dock: QDockWidget) -> None:
    """Bring `dock` to the front when it shares its place with other tabs (a small screen)."""
    if window.tabifiedDockWidgets(dock) and not dock.isFloating():
        dock.raise_()


def bring_forward_when_tabbed(window: QMainWindow, docks: dict[str, QDockWidget], scene, viewer) -> None:
    """Where the Inspector and the Output are tabs (a small screen): selecting one node brings the
    Inspector forward, new pictures from a run the Output."""

    def selected() -> None:
        try:
            if len(scene.selected_node_ids()) == 1:
                raise_when_tabbed(window, docks["inspector"])
        except RuntimeError:  # the scene is gone (the window is closing)
            pass

    scene.selectionChanged.connect(selected)
    viewer.images_added.connect(lambda: raise_when_tabbed(window, docks["output"]))
