"""A subgraph definition: nodes and links inside, the sockets and widgets it shows outside.

Links inside a definition address its boundary with two reserved ids: a link from
`(BOUNDARY_IN, name)` carries the value that reaches the instance's input `name`; a link into
`(BOUNDARY_OUT, name)` is what the instance's output `name` gives. A promoted widget is an
instance parameter that sets one inner node's parameter (its type, bounds and default are that
inner input's). Every instance is linked to its definition: it stores only its own values, so an
edit of the definition reaches every instance. `version` counts socket changes; `migrations`
say how a saved instance of an older version is carried forward, as node types' migrations do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nodeflow.core.graph import Group, Link, NodeRecord
from nodeflow.core.subgraphs.overlay import TYPE_PREFIX, definition_id_of, instance_type

__all__ = ["BOUNDARY_IN", "BOUNDARY_OUT", "TYPE_PREFIX", "Definition", "Promoted", "Socket", "SocketMigration",
           "definition_id_of", "instance_type"]

BOUNDARY_IN = "@in"
BOUNDARY_OUT = "@out"
BOUNDARY_IDS = (BOUNDARY_IN, BOUNDARY_OUT)


@dataclass
class Socket:
    """An exposed input or output: its name on the instance and the type it carries."""

    name: str
    type: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Promoted:
    """An inner node's parameter shown on the instance as the parameter `name`."""

    name: str
    node: str
    param: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SocketMigration:
    """How an instance made with version `from_version` becomes `from_version + 1`."""

    from_version: int
    rename_inputs: dict[str, str] = field(default_factory=dict)
    rename_outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Definition:
    id: str
    name: str
    version: int = 1
    inputs: list[Socket] = field(default_factory=list)
    outputs: list[Socket] = field(default_factory=list)
    widgets: list[Promoted] = field(default_factory=list)
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    links: dict[tuple[str, str], Link] = field(default_factory=dict)  # keyed by (dst, dst_input)
    groups: list[Group] = field(default_factory=list)
    migrations: list[SocketMigration] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def input(self, name: str) -> Socket | None:
        return next((s for s in self.inputs if s.name == name), None)

    def output(self, name: str) -> Socket | None:
        return next((s for s in self.outputs if s.name == name), None)

    def widget(self, name: str) -> Promoted | None:
        return next((w for w in self.widgets if w.name == name), None)

    def targets(self, input_name: str) -> list[Link]:
        """The inner links the exposed input `input_name` feeds."""
        return [link for link in self.links.values() if link.src == BOUNDARY_IN and link.src_output == input_name]

    def instance_names(self) -> list[str]:
        """Every name the instance shows as an input or parameter (sockets, then widgets)."""
        return [s.name for s in self.inputs] + [w.name for w in self.widgets]
