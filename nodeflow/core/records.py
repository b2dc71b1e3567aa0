"""The records a graph holds: nodes, links and group frames as the workflow file stores them, and
the checks a group must pass before it reaches the canvas. Plain data, no behaviour of the graph."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from nodeflow.core.errors import GraphEditError
from nodeflow.core.schema import item_problem


class NodeMode(str, Enum):
    """How a node takes part in a run: normally, muted (it and what only it feeds do not run) or
    bypassed (its inputs pass through to outputs of the same type). Equal to its string value."""

    NORMAL = "normal"
    MUTED = "muted"
    BYPASS = "bypass"


NODE_MODES = tuple(mode.value for mode in NodeMode)


@dataclass
class NodeRecord:
    """One node as the workflow stores it. `ui` holds layout only (pos, size, title, colour...)."""

    id: str
    type: str
    version: int
    params: dict[str, Any] = field(default_factory=dict)
    ui: dict[str, Any] = field(default_factory=dict)
    mode: str = NodeMode.NORMAL.value
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """A wire from `src`'s output `src_output` to `dst`'s input `dst_input`."""

    src: str
    src_output: str
    dst: str
    dst_input: str
    extra: tuple[tuple[str, Any], ...] = ()


@dataclass
class Group:
    """A frame around nodes: moving it moves the nodes inside its rectangle."""

    id: str
    title: str
    rect: list[float]
    color: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_group(group: Group) -> None:
    """Raise GraphEditError unless the group is what the workflow file holds (schema) with
    finite numbers: a frame's title reaches the canvas's painter, which must get text."""
    item = {"id": group.id, "title": group.title, "rect": group.rect}
    problem = item_problem("groups", item | ({"color": group.color} if group.color is not None else {}))
    if problem or (problem := not_finite({"rect": group.rect})):
        raise GraphEditError(f"group {group.id}: {problem}")


def not_finite(values: dict[str, Any]) -> str | None:
    """The first layout value holding a number that is not finite (NaN, infinity), as a message."""
    for key, value in values.items():
        numbers = value if isinstance(value, list) else [value]
        if any(isinstance(n, float) and not math.isfinite(n) for n in numbers):
            return f"{key}: numbers must be finite"
    return None
