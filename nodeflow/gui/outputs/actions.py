"""What can be done with one output image outside NodeFlow: open its folder, reveal it in the file
manager, copy it, save a copy. Each is a plain function so the viewer's buttons, its context menu
and the tests share one behaviour.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage


def open_folder(folder: Path) -> bool:
    """Show `folder` in the system's file manager (it is created first if a run has not yet)."""
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def reveal_command(path: Path, platform: str = sys.platform) -> list[str] | None:
    """The command that opens the file manager with `path` selected, or None where there is none.

    Linux uses the freedesktop FileManager1 D-Bus call that Nautilus, Dolphin, Nemo and Caja answer.
    """
    if platform.startswith("win"):
        return ["explorer", f"/select,{path}"]
    if platform == "darwin":
        return ["open", "-R", str(path)]
    if shutil.which("dbus-send"):
        return ["dbus-send", "--session", "--dest=org.freedesktop.FileManager1", "--type=method_call",
                "/org/freedesktop/FileManager1", "org.freedesktop.FileManager1.ShowItems",
                f"array:string:{QUrl.fromLocalFile(str(path)).toString()}", "string:"]
    return None


def reveal(path: Path) -> bool:
    """Select `path` in the file manager; where that is impossible, open its folder."""
    command = reveal_command(path)
    if command is not None and QProcess.startDetached(command[0], command[1:])[0]:
        return True
    return open_folder(path.parent)


def copy_image(image: QImage, path: Path | None = None) -> None:
    """Put the picture on the clipboard (and the file's address too, when it was saved)."""
    from PySide6.QtCore import QMimeData

    data = QMimeData()
    data.setImageData(image)
    if path is not None:
        data.setUrls([QUrl.fromLocalFile(str(path))])
    QGuiApplication.clipboard().setMimeData(data)


def save_copy(image: QImage, source: Path | None, target: Path) -> None:
    """Write the picture to `target`. A saved PNG is copied byte for byte, so the workflow embedded
    in it comes along; other targets (or unsaved previews) are encoded from the pixels."""
    from PySide6.QtCore import QBuffer, QIODevice

    from nodeflow.core.atomic import write_atomic

    if source is not None and source.is_file() and source.suffix.lower() == target.suffix.lower():
        write_atomic(target, source.read_bytes())  # whole or not at all, like every file NodeFlow writes
        return
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, (target.suffix.lstrip(".") or "png").lower()):
        raise OSError(f"could not write {target}: {target.suffix or 'this format'} is not supported")
    write_atomic(target, bytes(buffer.data()))
