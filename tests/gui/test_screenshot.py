"""Render the main window with the txt2img example, for a person to look at.

The pictures go to pytest's tmp_path, or to the folder named by NODEFLOW_SCREENSHOT_DIR when set
(never into the source tree).
"""

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter

from nodeflow.core.paths import PROJECT_ROOT
from nodeflow.core.registry import default_registry
from nodeflow.gui.canvas.run_state import RunState
from nodeflow.gui.outputs.entries import OutputImage


def sample_image() -> QImage:
    image = QImage(64, 64, QImage.Format.Format_RGB32)
    image.fill(QColor("#2050c0"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#d02020"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(14, 14, 36, 36)
    painter.end()
    return image


def test_main_window_screenshot(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    from nodeflow.gui import theme
    from nodeflow.gui.main_window import MainWindow

    theme.apply(QApplication.instance())
    window = MainWindow(default_registry())
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    with qtbot.waitExposed(window):
        window.show()
    assert window.files.open(PROJECT_ROOT / "workflows" / "txt2img.json", confirm=False)
    scene = window.scene
    ids = list(scene.nodes)
    states = {ids[0]: RunState("cached", seconds=0.01), ids[1]: RunState("done", seconds=0.12),
              ids[2]: RunState("done", seconds=0.08), ids[3]: RunState("done", seconds=0.0),
              ids[4]: RunState("running", progress=0.45)}
    for node_id, state in states.items():
        scene.nodes[node_id].run = state
    scene.nodes[ids[4]].set_image(sample_image())
    scene.nodes[ids[-1]].run = RunState("queued")
    window.output_viewer.add_images([OutputImage(sample_image(), ids[-1], None, (42,))])
    vae_wire = scene.links[(ids[5], "vae")].link  # a reroute dot on the long VAE wire, in the clear
    assert window.document.insert_reroute(vae_wire, (940, 150)) is not None
    scene.select_nodes([ids[4]])
    window.view.fit_all()
    qtbot.wait(50)
    shots = Path(os.environ.get("NODEFLOW_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    path = shots / "main_window.png"
    assert window.grab().save(str(path))
    assert path.stat().st_size > 20_000
    image = QImage(str(path))
    assert (image.width(), image.height()) == (window.width(), window.height())
    window.view.set_zoom(0.3)
    window.view.fit_all()
    window.view.set_zoom(0.3)
    assert window.view.viewport().grab().save(str(shots / "canvas_zoomed_out.png"))
    window.files.ask_save_changes = lambda: "discard"
    assert Path(path).exists()
