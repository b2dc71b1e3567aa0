"""The crash autosave: the unsaved workflow, written every few seconds to the user data folder
(`core.paths.user_dir()/autosave`), removed on a clean save or exit, offered back after a crash.
A leftover is deleted only once it was restored or the user discarded it (see FileOps).

Whether an autosave's window is still running is asked of a QLockFile beside it, which the
window holds while it lives: Qt knows on every platform whether the holder's process still runs
(`os.kill(pid, 0)` sends CTRL_C_EVENT on Windows, so crash autosaves were never offered there).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PySide6.QtCore import QLockFile

from nodeflow.core.atomic import write_atomic
from nodeflow.core.paths import user_dir


class Autosave:
    """The unsaved workflow, written every few seconds; removed on a clean save or exit.

    One file per running window process, so a second window never steals the first one's backup;
    on start-up any file left by a process that is no longer running is offered for restore.
    """

    def __init__(self, folder: Path | None = None):
        self.folder = folder or (user_dir() / "autosave")
        self.file = self.folder / f"autosave-{os.getpid()}-{id(self) & 0xFFFF:x}.json"
        self._lock = _lock_for(self.file)
        self._last = ""

    def write(self, text: str, source: Path | None) -> bool:
        """Write if the text changed since the last write; returns whether it wrote."""
        if text == self._last:
            return False
        if not self._lock.isLocked():
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock.tryLock(0)  # held until this window's process ends: "my owner is alive"
        record = {"saved_at": time.time(), "source": str(source) if source else None, "workflow": text}
        write_atomic(self.file, json.dumps(record))
        self._last = text
        return True

    def clear(self) -> None:
        """The work was saved or discarded: no backup, and no lock left behind on a clean quit."""
        self.file.unlink(missing_ok=True)
        self._lock.unlock()  # removes the .lock file; the next write takes it again
        self._last = ""

    def keep(self, path: Path) -> Path:
        """Move a leftover that could not be restored in full out of the way of the start-up offer,
        into `kept/` beside it, and return where it now is. It is never deleted."""
        target = self.folder / "kept" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return target

    def leftovers(self) -> list[Path]:
        """Autosaves from earlier sessions that did not exit cleanly, newest first."""
        if not self.folder.is_dir():
            return []
        files = [p for p in self.folder.glob("autosave-*.json") if p != self.file and not _owner_alive(p)]
        return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)

    @staticmethod
    def read(path: Path) -> tuple[str, str | None]:
        record = json.loads(path.read_text(encoding="utf-8"))
        return record["workflow"], record.get("source")


def _lock_for(path: Path) -> QLockFile:
    lock = QLockFile(str(path.with_suffix(".lock")))
    lock.setStaleLockTime(0)  # never stale by age: only a holder that no longer runs frees it
    return lock


def _owner_alive(path: Path) -> bool:
    """Whether the window that writes this autosave still holds its lock (then it is no crash).

    Taking the lock succeeds when nobody holds it or its holder's process is gone; it is let go
    at once, which also removes a crashed window's lock file.
    """
    lock = _lock_for(path)
    if lock.tryLock(0):
        lock.unlock()
        return False
    return True  # held by a running window (or the folder cannot take a lock file: leave it be)
