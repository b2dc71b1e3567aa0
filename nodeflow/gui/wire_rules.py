"""Which sockets a dragged wire may connect, and where a dropped wire or node goes.

The rule itself is `Graph.check_connection` (core/connections.py); this module answers it cheaply
for every socket in view while a wire is dragged, and picks the socket a drop on a node body (or a
node dropped on a wire) means. Nothing here needs a mouse or a scene (tests/gui/test_interaction.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from nodeflow.core.errors import GraphEditError
from nodeflow.core.graph import Graph, Link
from nodeflow.core.registry import Registry
from nodeflow.core.spec import Node
from nodeflow.core.types import can_connect

Connection = tuple[str, str, str, str]  # src, src_output, dst, dst_input


@dataclass(frozen=True)
class SocketRef:
    node_id: str
    name: str
    is_output: bool


def socket_type(graph: Graph, ref: SocketRef) -> str | None:
    """The type a wire at this socket has; an output's is what it really carries (through reroutes)."""
    if ref.is_output:
        return graph.output_type(ref.node_id, ref.name) if ref.node_id in graph.nodes else None
    cls = graph.registry.get(graph.nodes[ref.node_id].type) if ref.node_id in graph.nodes else None
    if cls is None:
        return None
    sock = cls.output(ref.name) if ref.is_output else cls.input(ref.name)
    return sock.type if sock is not None else None


class WireRules:
    """What a wire dragged from `start` may connect to, answered cheaply for every socket in view.

    The one graph search (ancestors or descendants of the start node) is done once per drag, so
    dimming incompatible sockets over a 1,000-node graph costs a set lookup per socket.
    """

    def __init__(self, graph: Graph, start: SocketRef):
        self.graph = graph
        self.start = start
        self.type = socket_type(graph, start)
        g = graph.to_networkx()
        if start.is_output:  # new link start -> X makes a cycle if start is reachable from X
            self._forbidden = nx.ancestors(g, start.node_id) | {start.node_id}
        else:
            self._forbidden = nx.descendants(g, start.node_id) | {start.node_id}

    def connection(self, target: SocketRef) -> Connection | None:
        """The (src, out, dst, inp) a drop on `target` would make, or None if the graph refuses it.

        The graph's `check_connection` decides; the cycle part is answered from this drag's search.
        """
        if self.type is None or target.is_output == self.start.is_output:
            return None
        if target.node_id in self._forbidden or target.node_id not in self.graph.nodes:
            return None
        src, dst = (self.start, target) if self.start.is_output else (target, self.start)
        try:
            self.graph.check_connection(src.node_id, src.name, dst.node_id, dst.name, reaches=self._reaches)
        except GraphEditError:
            return None
        return (src.node_id, src.name, dst.node_id, dst.name)

    def _reaches(self, a: str, b: str) -> bool:
        """Whether b is reachable from a, for the one pair a drop from `start` can make."""
        if self.start.is_output:  # a is the target (dst), b the start (src)
            return a in self._forbidden and b == self.start.node_id
        return b in self._forbidden and a == self.start.node_id

    def allows(self, target: SocketRef) -> bool:
        return self.connection(target) is not None

    def best_socket_on(self, node_id: str) -> SocketRef | None:
        """The socket a wire dropped on a node's body goes to: the first free one that fits."""
        cls = self.graph.node_class(node_id) if node_id in self.graph.nodes else None
        if cls is None:
            return None
        want_output = not self.start.is_output
        names = [o.name for o in cls.outputs] if want_output else [i.name for i in cls.inputs]
        candidates = [SocketRef(node_id, n, want_output) for n in names]
        fitting = [c for c in candidates if self.allows(c)]
        if not want_output:
            free = [c for c in fitting if self.graph.link_into(node_id, c.name) is None]
            linkable = [c for c in free if not self._is_parameter(cls, c.name)]
            fitting = linkable or free or fitting
        return fitting[0] if fitting else None

    @staticmethod
    def _is_parameter(cls: type[Node], name: str) -> bool:
        inp = cls.input(name)
        return inp is not None and inp.is_parameter


def fitting_socket(cls: type[Node], type_name: str, want_input: bool) -> str | None:
    """The first socket of `cls` that a wire of `type_name` fits (link-only inputs before widgets)."""
    if want_input:
        fits = [i for i in cls.inputs if can_connect(type_name, i.type)]
        fits.sort(key=lambda i: i.is_parameter)
        return fits[0].name if fits else None
    return next((o.name for o in cls.outputs if can_connect(o.type, type_name)), None)


def node_types_fitting(registry: Registry, type_name: str | None, want_input: bool) -> list[type[Node]]:
    """Node types offered by the search that opens when a wire is released on empty canvas."""
    types = list(registry)
    if type_name is None:
        return types
    return [cls for cls in types if fitting_socket(cls, type_name, want_input) is not None]


def insertion_on_link(graph: Graph, node_id: str, link: Link) -> tuple[str, str] | None:
    """(input, output) of `node_id` to splice into `link` when the node is dropped on it."""
    cls = graph.node_class(node_id)
    if cls is None or node_id in (link.src, link.dst):
        return None
    src_cls, dst_cls = graph.node_class(link.src), graph.node_class(link.dst)
    if src_cls is None or dst_cls is None:
        return None
    out_type = graph.output_type(link.src, link.src_output) or src_cls.output(link.src_output).type
    in_type = dst_cls.input(link.dst_input).type
    inp = fitting_socket(cls, out_type, want_input=True)
    out = fitting_socket(cls, in_type, want_input=False)
    if inp is None or out is None or graph.links_into(node_id) or graph.links_from(node_id):
        return None
    return inp, out
