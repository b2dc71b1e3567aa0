"""`nodeflow gui [FILE]`: create the application and the main window, open FILE, run."""

from __future__ import annotations

import sys
from pathlib import Path


def main(path: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from nodeflow.gui import queue_dock, server_menu, theme
    from nodeflow.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("NodeFlow")
    app.setOrganizationName("NodeFlow")
    theme.apply(app)
    from PySide6.QtGui import QIcon

    from nodeflow.core.paths import RESOURCES

    app.setWindowIcon(QIcon(str(RESOURCES / "icons" / "nodeflow.svg")))
    window = MainWindow()
    queue_dock.install(window)
    server_menu.install(window)
    window.show()
    if path:
        window.files.open(Path(path), confirm=False)
    elif not window.files.offer_restore():
        window.files.new()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
