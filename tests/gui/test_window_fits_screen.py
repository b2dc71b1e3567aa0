"""A new window never starts larger than the screen it opens on."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from nodeflow.gui.dock_sizes import PREFERRED_SIZE, fit_to_screen


def test_window_starts_within_the_available_screen_area(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()
    fit_to_screen(window)
    expected = (min(PREFERRED_SIZE[0], available.width()), min(PREFERRED_SIZE[1], available.height()))
    assert (window.width(), window.height()) == expected
    # the offscreen test screen (800x800) is smaller than the preferred size: the screen wins
    assert expected != PREFERRED_SIZE
