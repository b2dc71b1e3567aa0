"""Which branch each switch takes: lazy inputs (`Input.lazy`), decided before the run where possible.

A node with lazy inputs names, through `Node.lazy_needs`, the ones it wants given its other
inputs' values. When those values are known before anything runs (parameters, or outputs of pure
nodes such as numbers, text and maths, which the planner runs itself) the choice is made here,
once: the plan, validation, the memory plan and the cache keys then see only the chosen branch and
the other is not planned at all. Otherwise the node is *open*: the sources of its lazy inputs are
planned as conditional and run only if the node asks for them once its other inputs are computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nodeflow.core.context import RunContext
from nodeflow.core.graph import Graph, Link
from nodeflow.core.spec import REQUIRED, Node
from nodeflow.core.types import FLOAT, INT
from nodeflow.engine.node_types import node_classes
from nodeflow.engine.outcome import normalise

#: Most pure nodes the planner runs to decide the branches of one graph: deciding stays instant.
MAX_STATIC_NODES = 256


@dataclass(frozen=True)
class Walk:
    """What a run of some targets needs: nodes that always run, nodes that run only if an open
    lazy node asks for them, and each decided lazy node's choice."""

    always: frozenset[str]
    conditional: frozenset[str]
    chosen: Mapping[str, tuple[str, ...]]


def lazy_class(graph: Graph, node_id: str) -> type[Node] | None:
    """The node's class if it evaluates inputs lazily in the mode it is in (a bypassed node
    passes its inputs through, so it takes them all; a muted one takes none)."""
    record = graph.nodes.get(node_id)
    cls = graph.registry.get(record.type) if record is not None else None
    if cls is None or record.mode != "normal" or not cls.lazy_inputs():
        return None
    return cls


def taken_links(graph: Graph, node_id: str, links: list[Link], chosen: tuple[str, ...] | None
                ) -> tuple[list[Link], list[Link]]:
    """(links the node certainly takes, links into lazy inputs it may take) given its choice
    (None: not decided yet)."""
    cls = lazy_class(graph, node_id)
    if cls is None:
        return list(links), []
    lazy = set(cls.lazy_inputs())
    if chosen is not None:
        return [link for link in links if link.dst_input not in lazy or link.dst_input in chosen], []
    return ([link for link in links if link.dst_input not in lazy],
            [link for link in links if link.dst_input in lazy])


def walk(graph: Graph, targets: list[str], incoming: dict[str, list[Link]]) -> Walk:
    """The nodes `targets` need, following only the branches their lazy nodes take."""
    static = StaticValues(graph, incoming)
    chosen: dict[str, tuple[str, ...]] = {}
    lazy_types = {t for t, cls in node_classes(graph).items() if cls is not None and cls.lazy_inputs()}
    # most graphs have no lazy node, and most nodes of any graph are not one: every link is taken
    lazy_ids = {n for n, record in graph.nodes.items() if record.type in lazy_types} if lazy_types else set()

    def links_of(node_id: str) -> tuple[list[Link], list[Link]]:
        if lazy_class(graph, node_id) is None:
            return incoming.get(node_id, []), []
        if node_id not in chosen:
            decision = static.decide(node_id)
            if decision is not None:
                chosen[node_id] = decision
        return taken_links(graph, node_id, incoming.get(node_id, []), chosen.get(node_id))

    def reach(starts: list[str], follow_maybe: bool, stop: set[str]) -> tuple[set[str], list[str]]:
        found: set[str] = set()
        maybe: list[str] = []
        todo = [t for t in starts if t in graph.nodes]
        while todo:
            node_id = todo.pop()
            if node_id in found or node_id in stop:
                continue
            found.add(node_id)
            if node_id not in lazy_ids:
                todo += [link.src for link in incoming.get(node_id, ())]
                continue
            sure, possible = links_of(node_id)
            todo += [link.src for link in sure]
            (todo if follow_maybe else maybe).extend(link.src for link in possible)
        return found, maybe

    always, maybe = reach(targets, False, set())
    conditional, _ = reach(maybe, True, always)
    return Walk(frozenset(always), frozenset(conditional), dict(chosen))


class StaticValues:
    """Values known before the run: parameters, and what pure nodes make of them."""

    def __init__(self, graph: Graph, incoming: dict[str, list[Link]]) -> None:
        self.graph, self.incoming = graph, incoming
        self.memo: dict[str, dict[str, Any] | None] = {}
        self.runs = 0

    def decide(self, node_id: str) -> tuple[str, ...] | None:
        """The lazy inputs a lazy node takes, or None if that depends on what only the run knows."""
        cls = lazy_class(self.graph, node_id)
        values = self.inputs(node_id, lazy=False) if cls is not None else None
        if values is None:
            return None
        try:
            wanted = cls.lazy_needs(values)
        except Exception:  # a plugin's rule that fails here fails again, with its message, when it runs
            return None
        lazy = cls.lazy_inputs()
        return tuple(name for name in lazy if name in set(wanted))

    def inputs(self, node_id: str, lazy: bool) -> dict[str, Any] | None:
        """The node's input values (its lazy ones too if `lazy`), or None if one is not known."""
        record = self.graph.nodes[node_id]
        cls = self.graph.registry.get(record.type)
        links = {link.dst_input: link for link in self.incoming.get(node_id, [])}
        values: dict[str, Any] = {}
        for inp in cls.inputs:
            if inp.lazy and not lazy:
                continue
            link = links.get(inp.name)
            if link is not None:
                outputs = self.outputs(link.src)
                if outputs is None or link.src_output not in outputs:
                    return None
                value = outputs[link.src_output]
                src_cls = self.graph.registry.get(self.graph.nodes[link.src].type)
                src_out = src_cls.output(link.src_output)
                values[inp.name] = float(value) if inp.type == FLOAT and src_out.type == INT else value
            elif not inp.is_parameter:
                values[inp.name] = None
            else:
                value = record.params.get(inp.name, inp.default)
                if value is REQUIRED:
                    return None
                try:
                    values[inp.name] = inp.check_value(value)
                except ValueError:
                    return None
        return values

    def outputs(self, node_id: str) -> dict[str, Any] | None:
        """A pure node's outputs, run now; None for any other node."""
        if node_id in self.memo:
            return self.memo[node_id]
        self.memo[node_id] = None  # also what a cycle back here finds
        record = self.graph.nodes.get(node_id)
        cls = self.graph.registry.get(record.type) if record is not None else None
        if (cls is None or not cls.pure or record.mode != "normal" or cls.lazy_inputs()
                or self.runs >= MAX_STATIC_NODES):
            return None
        values = self.inputs(node_id, lazy=True)
        if values is None:
            return None
        self.runs += 1
        try:
            self.memo[node_id] = normalise(cls, cls().run(RunContext(node_id=node_id), **values))
        except Exception:  # it fails again when it runs, and says so there
            return None
        return self.memo[node_id]


class Choices:
    """One run's branches: the choices the plan made, and those open lazy nodes make as they run."""

    def __init__(self, graph: Graph, chosen: Mapping[str, tuple[str, ...]], order: list[str]) -> None:
        self.graph = graph
        self.chosen = dict(chosen)
        self.position = {node_id: n for n, node_id in enumerate(order)}  # each planned node's place

    def taken(self, node_id: str) -> list[Link]:
        """The links a node takes: all but those into lazy inputs it did not choose (or has not
        chosen yet)."""
        return taken_links(self.graph, node_id, self.graph.links_into(node_id), self.chosen.get(node_id))[0]

    def known(self, node_id: str) -> list[Link] | None:
        """The links a node takes, or None for a lazy node whose choice is not made yet."""
        return None if self.open(node_id) is not None else self.taken(node_id)

    def open(self, node_id: str) -> type[Node] | None:
        """The node's class if it is a lazy node that has not chosen yet."""
        return lazy_class(self.graph, node_id) if node_id not in self.chosen else None

    def decide(self, node_id: str, cls: type[Node], values: Mapping[str, Any]) -> tuple[str, ...]:
        """Let an open lazy node choose from its other inputs' values; returns what it takes."""
        wanted = set(cls.lazy_needs({k: v for k, v in values.items() if not cls.input(k).lazy}))
        self.chosen[node_id] = tuple(name for name in cls.lazy_inputs() if name in wanted)
        return self.chosen[node_id]

    def still_to_run(self, sources: list[str], done: set[str]) -> list[str]:
        """What `sources` (a branch just chosen) need that is not `done`, in plan order."""
        wanted: set[str] = set()
        todo = [s for s in sources if s in self.position]
        while todo:
            node_id = todo.pop()
            if node_id in wanted or node_id in done:
                continue
            wanted.add(node_id)
            todo += [link.src for link in self.taken(node_id) if link.src in self.position]
        return sorted(wanted, key=self.position.__getitem__)
