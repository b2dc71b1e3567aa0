"""What the editor remembers between sessions: window layout, recent files, canvas options, the
memory budget.

Kept in the user data folder (`core.paths.user_dir()`, platformdirs); the crash autosave of unsaved
work is gui/autosave.py.
"""

from __future__ import annotations

import json
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
    output_dir: str = ""  # where runs save; "" = the user data folder's output/
    memory_budget: str = ""  # as the user wrote it ("6 GB"); "" = automatic (free VRAM / available RAM)

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

    def memory_budget_bytes(self) -> int | None:
        """The budget for models and cached results in bytes; None for automatic, and for a value
        that is not a size (a hand-edited file): the run then uses what is free, as by default."""
        from nodeflow.core.byte_sizes import parse_size

        try:
            return parse_size(self.memory_budget) if self.memory_budget else None
        except ValueError:
            return None

    def add_recent(self, path: Path | str) -> None:
        text = str(Path(path).resolve())
        self.recent = [text] + [p for p in self.recent if p != text]
        del self.recent[MAX_RECENT:]

    def existing_recent(self) -> list[str]:
        return [p for p in self.recent if Path(p).exists()]
