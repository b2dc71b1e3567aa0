"""What a run tells its watchers. Plain frozen dataclasses: the GUI forwards them across threads,
the CLI turns them into progress bars, tests collect them in a list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunStarted:
    order: list[str]  # node ids in the order they will be considered


@dataclass(frozen=True)
class NodeStarted:
    node_id: str


@dataclass(frozen=True)
class NodeProgress:
    node_id: str
    step: int
    total: int
    preview: Any = None  # a small PIL image, or None


@dataclass(frozen=True)
class NodeFinished:
    node_id: str
    cached: bool
    reason: str  # why it ran ("parameter 'seed' changed") or "cached"
    seconds: float


@dataclass(frozen=True)
class NodeFailed:
    node_id: str
    message: str


@dataclass(frozen=True)
class NodeSkipped:
    node_id: str
    reason: str


@dataclass(frozen=True)
class NodeMessage:
    node_id: str
    text: str


@dataclass(frozen=True)
class NodeImages:
    node_id: str
    images: list[Any]  # PIL images


@dataclass(frozen=True)
class RunFinished:
    ok: bool
    cancelled: bool
    seconds: float


Event = (RunStarted | NodeStarted | NodeProgress | NodeFinished | NodeFailed | NodeSkipped
         | NodeMessage | NodeImages | RunFinished)
