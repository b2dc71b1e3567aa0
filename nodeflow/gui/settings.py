"""What the editor remembers between sessions (window layout, recent files, canvas options) and
the crash autosave. Both live in the user data folder (`core.paths.user_dir()`, platformdirs).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nodeflow.core.files import write_atomic
from nodeflow.core.paths import user_dir

MAX_RECENT = 10


@dataclass
class Settings:
    recent: list[str] = field(default_factory=list)
    geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState()
    snap_to_grid: bool = False
    show_minimap: bool = True
    item_cache: bool = True
    last_dir: str = ""

    @staticmethod
    def path() -> Path:
        return user_dir() / "gui-settings.json"

    @classmethod
    def load(cls) -> Settings:
        try:
            data = json.loads(cls.path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__} if isinstance(data, dict) else {}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def save(self) -> None:
        try:
            write_atomic(self.path(), json.dumps(asdict(self), indent=1))
        except OSError:
            pass  # settings are a convenience; never fail the app over them

    def add_recent(self, path: Path | str) -> None:
        text = str(Path(path).resolve())
        self.recent = [text] + [p for p in self.recent if p != text]
        del self.recent[MAX_RECENT:]

    def existing_recent(self) -> list[str]:
        return [p for p in self.recent if Path(p).exists()]


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
