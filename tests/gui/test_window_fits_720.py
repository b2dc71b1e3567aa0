"""The whole editor (every panel, the Queue included, as `nodeflow gui` builds it) fits a 1280x720
screen: every dock, the Run|Queue tabs, the Queue's buttons and the status bar lie inside it, the
View menu reaches every panel, and the panels show their content. A screenshot goes to tmp_path."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QTabBar, QWidget

from nodeflow.core import default_registry
from nodeflow.gui import queue_dock, theme

SCREEN = QRect(0, 0, 1280, 720)
#: A title bar and a panel/taskbar take about this much of a 720-pixel-high screen.
DECORATIONS = 60


@pytest.fixture
def full(qtbot, tmp_path):
    from nodeflow.engine import Executor
    from nodeflow.gui.main_window import MainWindow

    theme.apply(QApplication.instance())
    registry = default_registry()
    win = MainWindow(registry, executor=Executor(registry, device="cpu"), output_dir=tmp_path / "out")
    win.files.ask_save_changes = lambda: "discard"
    qtbot.addWidget(win)
    panel = queue_dock.install(win)
    win.resize(SCREEN.width(), SCREEN.height() - DECORATIONS)
    with qtbot.waitExposed(win):
        win.show()
    win.files.new()
    qtbot.wait(20)
    yield win
    panel.runner.shutdown()
    win.runner.shutdown()


def _rect_in_window(win, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(win, QPoint(0, 0)), widget.size())


def test_every_panel_and_the_status_bar_lie_inside_a_1280x720_screen(qtbot, full, tmp_path):
    win = full
    assert win.minimumSizeHint().height() <= SCREEN.height() - DECORATIONS
    assert (win.width(), win.height()) == (SCREEN.width(), SCREEN.height() - DECORATIONS)
    inside = QRect(0, 0, win.width(), win.height())
    for name, dock in win.docks.items():
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            assert inside.contains(_rect_in_window(win, dock)), name
    status = win.statusBar()
    assert status.isVisible() and inside.contains(_rect_in_window(win, status))
    tabs = [bar for bar in win.findChildren(QTabBar) if bar.isVisible()
            and {bar.tabText(i) for i in range(bar.count())} >= {"Run", "Queue"}]
    assert tabs and inside.contains(_rect_in_window(win, tabs[0]))
    win.docks["queue"].raise_()
    qtbot.wait(20)
    panel = win.docks["queue"].widget()
    for button in (panel.run_button, panel.up_button, panel.down_button, panel.cancel_button, panel.stop_button):
        assert button.isVisible() and inside.contains(_rect_in_window(win, button)), button.text()
        assert button.height() >= button.minimumSizeHint().height()
    shot = tmp_path / "window_1280x720.png"
    assert win.grab().save(str(shot))


def test_the_view_menu_reaches_every_panel(full):
    toggles = {action for action in full.view_menu.actions()}
    for name, dock in full.docks.items():
        assert dock.toggleViewAction() in toggles, name
    assert "Queue" in [a.text() for a in full.view_menu.actions()]


def test_every_output_action_is_on_screen_in_a_narrow_output_panel(full):
    viewer = full.output_viewer
    dock_rect = _rect_in_window(full, full.docks["output"])
    for key, action in viewer.buttons.items():
        (button,) = [w for w in action.associatedObjects() if isinstance(w, QWidget)]
        assert button.isVisible() and dock_rect.contains(_rect_in_window(full, button)), key


def test_palette_names_that_share_a_start_stay_apart(full):
    """Too narrow for the whole name, "Conditioning Combine" and "Conditioning Concat" must not
    both read "Conditioning Co…"."""
    from PySide6.QtGui import QFontMetrics

    tree = full.palette.tree
    metrics = QFontMetrics(tree.font())
    width = metrics.horizontalAdvance("Conditioning Combine") - 12
    shown = {metrics.elidedText(title, tree.textElideMode(), width)
             for title in ("Conditioning Combine", "Conditioning Concat")}
    assert len(shown) == 2, shown


def test_the_search_popup_lies_on_the_screen_and_shows_whole_names(qtbot, full):
    view = full.view
    corner = view.mapToScene(view.viewport().rect().bottomRight())
    popup = view.open_search(corner)
    area = popup.screen().availableGeometry()
    assert area.contains(popup.frameGeometry())
    longest = max(popup.list.item(i).text() for i in range(popup.list.count()))
    assert popup.list.fontMetrics().horizontalAdvance(longest) <= popup.list.viewport().width()
    popup.close()


def test_on_a_short_screen_inspector_and_output_share_the_column_and_come_forward(qtbot, full):
    from nodeflow.gui.outputs.entries import OutputImage

    from .test_outputs import solid

    inspector, output = full.docks["inspector"], full.docks["output"]
    assert output in full.tabifiedDockWidgets(inspector)
    sampler = next(i for i, r in full.document.graph.nodes.items() if r.type == "sampling.sampler")
    full.scene.select_nodes([sampler])
    qtbot.waitUntil(lambda: not inspector.visibleRegion().isEmpty(), timeout=2000)
    assert inspector.height() >= 300  # the whole column: its parameters show
    full.output_viewer.add_images([OutputImage(solid("red"), sampler)])
    qtbot.waitUntil(lambda: not output.visibleRegion().isEmpty(), timeout=2000)


def test_a_long_output_folder_shows_its_start_and_its_last_folder(qtbot, full, tmp_path):
    """The folder shares its line with Change… and Open in a ~300 px column: a long path was cut
    off at the right edge, hiding the folder's own name."""
    folder = tmp_path / "a rather long folder name for renders" / "nested deeper still" / "txt2img-outputs"
    full.output_viewer.set_output_dir(folder)
    full.docks["output"].raise_()
    label = full.output_viewer.folder_label
    qtbot.waitUntil(lambda: label.isVisible() and label.width() > 0, timeout=2000)
    shown = label.shown_text()
    assert label.text() == str(folder) and label.toolTip() == str(folder)
    assert shown != str(folder) and "…" in shown  # too long for the column at 1280x720
    assert shown.endswith("…/nested deeper still/txt2img-outputs") or shown.endswith("…/txt2img-outputs")
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    dock = _rect_in_window(full, full.docks["output"])
    assert dock.contains(_rect_in_window(full, label))


def test_frame_all_on_txt2img_shows_every_node_with_its_labels_at_1280x720(qtbot, full):
    """It zoomed out to 46% there, where only titles were drawn: the overview showed no values."""
    from nodeflow.core.paths import EXAMPLES
    from nodeflow.gui.canvas import node_paint
    from nodeflow.gui.canvas.detail import READABLE_PX, Detail, detail_for, font_px, text_scale

    full.files.open(EXAMPLES / "txt2img.json", confirm=False)
    full.view.set_zoom(1.0)
    full.actions_["fit_all"].trigger()
    view, body = full.view, node_paint.font("normal")
    visible = view.visible_scene_rect()
    assert all(visible.contains(item.sceneBoundingRect()) for item in full.scene.nodes.values())
    zoom = view.zoom()
    assert zoom < READABLE_PX / font_px(body)  # too far out for text at its own size...
    assert detail_for(zoom, body) is Detail.FULL  # ...so it is drawn larger, labels and values too
    assert font_px(body) * text_scale(zoom, body) * zoom >= READABLE_PX - 1e-6
    shot = view.viewport().grab()
    assert not shot.isNull()


def test_every_subgraph_button_shows_in_the_narrow_column(qtbot, full):
    """The socket buttons sat in one row wider than the column: Rename… was cut, the rest hidden."""
    from PySide6.QtWidgets import QPushButton

    dock = full.docks["subgraph"]
    dock.raise_()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=2000)
    area = _rect_in_window(full, dock)
    buttons = full.subgraph_panel.findChildren(QPushButton)
    assert len(buttons) == 11
    for button in buttons:
        assert button.isVisible() and area.contains(_rect_in_window(full, button)), button.text()
