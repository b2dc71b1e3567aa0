"""Which node a wire released on empty canvas most likely wants: learned from the example
workflows NodeFlow ships (`workflows/`), not from a hand-kept list.

Each link of an example counts for the node type at its other end: ten times when it leaves (or
enters) the same socket of the same node type as the dragged wire, once when it only carries the
same type. So a Sampler's LATENT leads to VAE Decode, an Empty Latent's to the Sampler. Without
examples, a node whose socket has exactly the wire's type comes before one that takes anything.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

from nodeflow.core.graph import Graph
from nodeflow.core.paths import PROJECT_ROOT
from nodeflow.core.registry import Registry
from nodeflow.gui.wire_rules import SocketRef, fitting_socket

EXAMPLES = PROJECT_ROOT / "workflows"
SAME_SOCKET, SAME_TYPE, EXACT_TYPE = 10.0, 1.0, 0.5

Link = tuple[str, str, str, str]  # source type id, output name, target type id, input name


@lru_cache(maxsize=4)
def example_links(folder: Path = EXAMPLES) -> tuple[Link, ...]:
    """Every link of every example, by node type ids and socket names (files that do not parse are skipped)."""
    found: list[Link] = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            types = {node["id"]: node["type"] for node in data["nodes"]}
            for link in data["links"]:
                (src, out), (dst, inp) = link["from"], link["to"]
                found.append((types[src], out, types[dst], inp))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return tuple(found)


def likely_next(registry: Registry, node_type: str, socket: str, is_output: bool, wire_type: str | None,
                links: tuple[Link, ...] | None = None) -> dict[str, float]:
    """Type id -> weight of the nodes examples connect to this socket (higher is likelier)."""
    weights: Counter[str] = Counter()
    for src, out, dst, inp in example_links() if links is None else links:
        here, other = ((src, out), dst) if is_output else ((dst, inp), src)
        if here == (node_type, socket):
            weights[other] += SAME_SOCKET
        elif wire_type is not None and _socket_type(registry, *here, is_output) == wire_type:
            weights[other] += SAME_TYPE
    return dict(weights)


def likely_for(graph: Graph, start: SocketRef, wire_type: str | None,
               links: tuple[Link, ...] | None = None) -> dict[str, float]:
    """`likely_next` for a wire dragged from `start`, a socket of a node in `graph`."""
    record = graph.nodes.get(start.node_id)
    if record is None:
        return {}
    weights = likely_next(graph.registry, record.type, start.name, start.is_output, wire_type, links)
    if wire_type is not None:  # a socket of exactly this type before one that takes anything
        for cls in graph.registry:
            name = fitting_socket(cls, wire_type, want_input=start.is_output)
            if name is not None and _socket_type(graph.registry, cls.type_id, name, not start.is_output) == wire_type:
                weights[cls.type_id] = weights.get(cls.type_id, 0.0) + EXACT_TYPE
    return weights


def _socket_type(registry: Registry, type_id: str, name: str, is_output: bool) -> str | None:
    cls = registry.get(type_id)
    sock = (cls.output(name) if is_output else cls.input(name)) if cls is not None else None
    return sock.type if sock is not None else None
