"""The connection rule: whether an output may be wired to an input, and why not.

One function decides, for the graph model (every edit) and the canvas (every socket a dragged wire
passes over, see gui/wire_rules.py): both node types known, both sockets exist, the types fit
(`core.types.can_connect`, looking through reroutes to what they really carry), a reroute only
takes what everything downstream of it can take, and no cycle. A new connection rule goes here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import networkx as nx

from nodeflow.core.errors import GraphEditError
from nodeflow.core.spec import Node
from nodeflow.core.types import ANY, can_connect


class GraphQueries(Protocol):
    """What the rule reads from a graph (core.graph.Graph answers it)."""

    nodes: dict[str, Any]
    registry: Any

    def node(self, node_id: str) -> Any: ...

    def node_class(self, node_id: str) -> type[Node] | None: ...

    def output_type(self, node_id: str, output_name: str) -> str | None: ...

    def links_from(self, node_id: str) -> Iterable[Any]: ...

    def link_into(self, node_id: str, input_name: str) -> Any: ...

    def to_networkx(self) -> nx.MultiDiGraph: ...


def check_connection(graph: GraphQueries, src: str, src_output: str, dst: str, dst_input: str,
                     reaches: Callable[[str, str], bool] | None = None) -> None:
    """Raise GraphEditError saying why this wire is refused; return quietly if it is fine.

    `reaches(a, b)` -- whether b is reachable from a -- lets a caller that checks many sockets
    answer the cycle part from one search instead of one graph search per socket.
    """
    src_cls = graph.node_class(graph.node(src).id)
    dst_cls = graph.node_class(graph.node(dst).id)
    if src_cls is None:
        raise GraphEditError(f"unknown node type '{graph.nodes[src].type}'", src)
    if dst_cls is None:
        raise GraphEditError(f"unknown node type '{graph.nodes[dst].type}'", dst)
    out = src_cls.output(src_output)
    if out is None:
        raise GraphEditError(f"has no output '{src_output}'", src)
    inp = dst_cls.input(dst_input)
    if inp is None:
        raise GraphEditError("no such input", dst, dst_input)
    out_type = graph.output_type(src, src_output) or out.type
    if not can_connect(out_type, inp.type):
        raise GraphEditError(
            f"expects {inp.type}, but output '{src_output}' of node {src} gives {out_type}",
            dst,
            dst_input,
        )
    if dst_cls.passthrough:
        for consumer, consumer_input, consumer_type in _consumers_through(graph, dst):
            if not can_connect(out_type, consumer_type):
                raise GraphEditError(
                    f"this reroute feeds input '{consumer_input}' of node {consumer} ({consumer_type}), "
                    f"which cannot take {out_type}", dst, dst_input)
    if reaches is None:
        def reaches(a: str, b: str) -> bool:
            return nx.has_path(graph.to_networkx(), a, b)
    if src == dst or reaches(dst, src):
        raise GraphEditError(f"linking from node {src} would make a cycle", dst, dst_input)


def carried_type(graph: GraphQueries, node_id: str, output_name: str,
                 known: dict[tuple[str, str], str | None] | None = None) -> str | None:
    """The type an output really carries: declared, or looked up through passthrough nodes
    (reroutes) to what feeds them; ANY for an unfed or looping chain, None for no such output.

    `known` is a memo a caller asking about every output (validation) keeps between calls: the
    answer is stored for each output walked, so a chain of n reroutes costs n steps, not n^2/2.
    """
    walked: list[tuple[str, str]] = []
    seen: set[str] = set()
    found: str | None = ANY  # what a loop of reroutes carries
    while node_id not in seen:
        key = (node_id, output_name)
        if known is not None and key in known:
            found = known[key]
            break
        seen.add(node_id)
        walked.append(key)
        cls = graph.registry.get(graph.nodes[node_id].type) if node_id in graph.nodes else None
        out = cls.output(output_name) if cls else None
        if out is None or out.type != ANY or not cls.passthrough or not cls.inputs:
            found = out.type if out is not None else None
            break
        link = graph.link_into(node_id, cls.inputs[0].name)
        if link is None:
            found = ANY
            break
        node_id, output_name = link.src, link.src_output
    if known is not None:
        known.update(dict.fromkeys(walked, found))
    return found


def _consumers_through(graph: GraphQueries, node_id: str) -> list[tuple[str, str, str]]:
    """(node, input, type) of the typed inputs a passthrough node feeds, through chains of them."""
    found, todo, seen = [], [node_id], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for link in graph.links_from(current):
            cls = graph.registry.get(graph.nodes[link.dst].type)
            inp = cls.input(link.dst_input) if cls else None
            if cls is not None and cls.passthrough:
                todo.append(link.dst)
            elif inp is not None:
                found.append((link.dst, link.dst_input, inp.type))
    return found

