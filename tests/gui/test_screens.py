"""Screenshots of every example after Frame All at 1280x720 and 1920x1080, written to pytest's
tmp folder for a person to look at; text must be readable (labels and widgets drawn) in each."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from nodeflow.core import default_registry
from nodeflow.gui.canvas import node_paint
from nodeflow.gui.canvas.detail import Detail, detail_for
from nodeflow.gui.start_panel import example_workflows

SIZES = ((1280, 720), (1920, 1080))
EXAMPLES = [path for path, _, _ in example_workflows()]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screens")
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_example_is_readable_after_frame_all(qtbot, shots, size):
    from nodeflow.gui import theme
    from nodeflow.gui.main_window import MainWindow

    theme.apply(QApplication.instance())
    window = MainWindow(default_registry(), output_dir=shots / "out")
    window.files.ask_save_changes = lambda: "discard"
    qtbot.addWidget(window)
    window.resize(*size)
    with qtbot.waitExposed(window):
        window.show()
    assert (window.width(), window.height()) == size  # the panels fit in the window
    for path in EXAMPLES:
        assert window.files.open_example(path)
        window.view.fit_all()
        qtbot.wait(20)
        zoom = window.view.zoom()
        assert detail_for(zoom, node_paint.font("normal")) is Detail.FULL, (path.name, zoom)
        visible = window.view.visible_scene_rect()
        shown = sum(visible.intersects(item.sceneBoundingRect()) for item in window.scene.nodes.values())
        assert shown >= min(3, len(window.scene.nodes)), path.name
        target = shots / f"{path.stem}_{size[0]}x{size[1]}.png"
        assert window.grab().save(str(target))
    window.runner.shutdown()
