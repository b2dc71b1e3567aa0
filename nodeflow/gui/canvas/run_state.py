"""What the last (or current) run says about one node, as the canvas shows it.

Plain data, set by gui/run_states.py from engine events and validation problems, painted by
canvas/node_paint.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunState:
    state: str = ""  # "", queued, running, cached, done, failed, skipped, invalid
    progress: float | None = None
    seconds: float | None = None
    message: str = ""
    problems: list[str] = field(default_factory=list)
    problem_fields: set[str] = field(default_factory=set)
