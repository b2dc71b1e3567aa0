"""The crash autosave: the unsaved workflow, written every few seconds to the user data folder
(`core.paths.user_dir()/autosave`), removed on a clean save or exit, offered back after a crash.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from nodeflow.core.files import write_atomic
from nodeflow.core.paths import user_dir


class Autosave:
    """The unsaved workflow, written every few seconds; removed on a clean save or exit.

    One file per running window process, so a second window never steals the first one's backup;
    on start-up any file left by a process that is no longer running is offered for restore.
    """

    def __init__(self, folder: Path | None = None):
        self.folder = folder or (user_dir() / "autosave")
        self.file = self.folder / f"autosave-{os.getpid()}-{id(self) & 0xFFFF:x}.json"
        self._last = ""

    def write(self, text: str, source: Path | None) -> bool:
        """Write if the text changed since the last write; returns whether it wrote."""
        if text == self._last:
            return False
        record = {"saved_at": time.time(), "source": str(source) if source else None, "workflow": text}
        write_atomic(self.file, json.dumps(record))
        self._last = text
        return True

    def clear(self) -> None:
        self.file.unlink(missing_ok=True)
        self._last = ""

    def leftovers(self) -> list[Path]:
        """Autosaves from earlier sessions that did not exit cleanly, newest first."""
        if not self.folder.is_dir():
            return []
        files = [p for p in self.folder.glob("autosave-*.json") if not _owner_alive(p)]
        return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)

    @staticmethod
    def read(path: Path) -> tuple[str, str | None]:
        record = json.loads(path.read_text(encoding="utf-8"))
        return record["workflow"], record.get("source")


def _owner_alive(path: Path) -> bool:
    """Whether the process that writes this autosave is still running (then it is not a crash)."""
    try:
        pid = int(path.name.split("-")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
