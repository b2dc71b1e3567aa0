"""A new window never starts larger than the screen it opens on."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from nodeflow.gui.dock_sizes import PREFERRED_SIZE, fit_to_screen, keep_on_screen


def test_window_starts_within_the_available_screen_area(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()
    fit_to_screen(window)
    expected = (min(PREFERRED_SIZE[0], available.width()), min(PREFERRED_SIZE[1], available.height()))
    assert (window.width(), window.height()) == expected
    # the offscreen test screen (800x800) is smaller than the preferred size: the screen wins
    assert expected != PREFERRED_SIZE


def test_a_window_below_or_beside_the_screen_is_moved_back_inside(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()
    window.resize(available.width() // 2, available.height() // 2)
    window.move(available.right() - 50, available.bottom() - 20)  # mostly past the right and bottom edges
    keep_on_screen(window)
    assert available.contains(window.frameGeometry())
    assert window.width() == available.width() // 2  # it fitted: only moved, not shrunk


def test_a_window_larger_than_the_screen_shrinks_to_it(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()
    window.setGeometry(available.left() - 30, available.top() + 40, available.width() + 200, available.height() + 100)
    keep_on_screen(window)
    assert available.contains(window.frameGeometry())


def test_a_saved_geometry_off_the_screen_is_restored_on_it(window):
    """The editor's own restore path: a geometry saved while the window hung below the screen."""
    available = window.screen().availableGeometry()
    window.move(available.left() + 10, available.bottom() - 100)
    window.save_layout()
    window._restore_layout()
    assert available.contains(window.frameGeometry())
