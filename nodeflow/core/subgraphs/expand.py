"""Instances unfolded into ordinary nodes, for validation, planning and the run.

Each inner node of an instance `5` becomes node `5:<inner id>` (nested instances add more `:`),
as ComfyUI names them in API prompts. A link is followed through instance boundaries to the real
node that makes the value: into an instance, along the definition's link to its output; out of a
definition, along the link into the instance's input. A scalar input that is not linked but has a
value on the instance gives that value to the inner inputs it feeds; a promoted widget's value on
the instance sets its inner parameter. A muted or bypassed instance mutes or bypasses its inner
nodes that run normally (ComfyUI does the same).

Before any node is made the expansion is counted with plain integers, definition by definition
(`core.node_bound`), so definitions that double at every level are refused in one line, as are a
definition that contains itself, an instance of a definition the workflow lacks, and an instance
whose links or values name sockets its definition does not have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nodeflow.core.errors import Problem
from nodeflow.core.graph import Graph, Link, NodeRecord
from nodeflow.core.node_bound import too_many_nodes
from nodeflow.core.subgraphs.definition import BOUNDARY_IN, BOUNDARY_OUT, Definition, definition_id_of
from nodeflow.core.subgraphs.overlay import MAX_NESTING

_UNSET = object()


class ExpandedGraph(Graph):
    """The unfolded graph; messages name each inner node's instance and definition."""

    def __init__(self, source: Graph):
        super().__init__(source.registry)
        self.source = source
        #: flat id of an inner node -> "in subgraph 'Name' (node 5)"
        self.origin: dict[str, str] = {}

    def label(self, node_id: str) -> str:
        where = self.origin.get(node_id)
        return super().label(node_id) + (f" in {where}" if where else "")


def has_instances(graph: Graph) -> bool:
    """Whether any node is a subgraph instance (asked once per type: a large graph has few)."""
    return any(definition_id_of(type_id) is not None for type_id in {record.type for record in graph.nodes.values()})


def expand(graph: Graph) -> tuple[Graph, list[Problem]]:
    """(the unfolded graph, problems). A graph without instances is returned as it is; with
    problems the graph is returned unexpanded and nothing was made."""
    if not has_instances(graph):
        return graph, []
    problems = count_problems(graph)
    if problems:
        return graph, problems
    return _Unfold(graph).run()


def expand_run(graph: Graph, targets: list[str] | None) -> tuple[Graph, list[str] | None, list[Problem]]:
    """`expand` and `expand_targets` together: (unfolded graph, its targets, problems)."""
    graph, problems = expand(graph)
    return graph, expand_targets(graph, targets), problems


def expand_targets(graph: Graph, targets: list[str] | None) -> list[str] | None:
    """Targets named as the user sees them, in the unfolded graph: an instance stands for every
    node inside it (the plan keeps only what outputs need)."""
    if targets is None or not isinstance(graph, ExpandedGraph):
        return targets
    found = []
    for target in targets:
        if target in graph.nodes:
            found.append(target)
        else:
            found += [node_id for node_id in graph.nodes if node_id.startswith(f"{target}:")]
    return found


def count_problems(graph: Graph) -> list[Problem]:
    """Cycles, missing definitions and the node bound, worked out per definition before expanding."""
    definitions: dict[str, Definition] = graph.subgraphs
    sizes: dict[str, int] = {}
    problems: list[Problem] = []
    reported: set[str] = set()

    def children(definition: Definition) -> list[tuple[str, str]]:
        return [(node_id, d) for node_id, r in definition.nodes.items() if (d := definition_id_of(r.type)) is not None]

    for root in sorted({d for r in graph.nodes.values() if (d := definition_id_of(r.type)) is not None}):
        if root in sizes or root not in definitions:
            continue
        stack: list[tuple[str, list[tuple[str, str]]]] = [(root, children(definitions[root]))]
        on_path = [root]
        while stack:
            current, todo = stack[-1]
            if todo:
                node_id, child = todo.pop()
                if child in sizes:
                    continue
                if child not in definitions:
                    if (current, child) not in reported:
                        reported.add((current, child))
                        problems.append(Problem(f"subgraph '{_name(definitions[current])}' node {node_id} uses "
                                                f"subgraph '{child}', which this workflow does not define"))
                    continue
                if len(on_path) >= MAX_NESTING:
                    problems.append(Problem(f"subgraphs are nested more than {MAX_NESTING} deep (subgraph "
                                            f"'{_name(definitions[root])}' and inward); refused before expanding"))
                    return problems
                if child in on_path:
                    cycle = " -> ".join(_name(definitions[d]) for d in on_path[on_path.index(child):] + [child])
                    problems.append(Problem(f"subgraph '{_name(definitions[child])}' contains itself ({cycle}); "
                                            "a subgraph may not be inside itself"))
                    return problems
                stack.append((child, children(definitions[child])))
                on_path.append(child)
                continue
            stack.pop()
            on_path.pop()
            definition = definitions[current]
            sizes[current] = sum(_cost(r.type, sizes) for r in definition.nodes.values())
    total = 0
    for node_id, record in graph.nodes.items():
        definition_id = definition_id_of(record.type)
        if definition_id is not None and definition_id not in definitions:
            problems.append(Problem(f"uses subgraph '{definition_id}', which this workflow does not define", node_id))
        total += _cost(record.type, sizes)
    if (refusal := too_many_nodes(total, "this workflow's subgraphs")) is not None:
        problems.append(Problem(refusal))
    return problems


def socket_problems(nodes: dict[str, NodeRecord], links: dict[tuple[str, str], Link],
                    definitions: dict[str, Definition], name: Callable[[str], str] = str) -> list[Problem]:
    """Links and values instances (`definitions`: instance id -> its definition) have for sockets
    their definitions do not (any more) have, and instances of another version; `name` gives the
    id a message uses. One pass over the links."""
    problems: list[Problem] = []
    for node_id, definition in definitions.items():
        record = nodes[node_id]
        what = f"subgraph '{_name(definition)}' (version {definition.version})"
        if record.version != definition.version:
            problems.append(Problem(f"was made with version {record.version} of {what}; update it to the "
                                    "definition's version", name(node_id)))
        names = set(definition.instance_names())
        problems += [Problem(f"{what} has no parameter of this name", name(node_id), p)
                     for p in record.params if p not in names]
    for (dst, dst_input), link in links.items():
        into, out_of = definitions.get(dst), definitions.get(link.src)
        if into is not None:
            what = f"subgraph '{_name(into)}' (version {into.version})"
            if into.widget(dst_input) is not None:
                problems.append(Problem("a promoted widget takes a value, not a link", name(dst), dst_input))
            elif into.input(dst_input) is None:
                problems.append(Problem(f"is linked, but {what} has no input of this name", name(dst), dst_input))
        if out_of is not None and out_of.output(link.src_output) is None:
            problems.append(Problem(f"node {name(dst)} takes output '{link.src_output}', which subgraph "
                                    f"'{_name(out_of)}' (version {out_of.version}) does not have", name(link.src)))
    return problems


def _cost(type_id: str, sizes: dict[str, int]) -> int:
    """The nodes a node expands to: its definition's for an instance, else itself; at least one,
    since even an instance of an empty definition is visited (2^24 of those are refused too)."""
    return max(1, sizes.get(definition_id_of(type_id) or "", 1))


def _name(definition: Definition) -> str:
    return definition.name or definition.id


class _Unfold:
    def __init__(self, graph: Graph):
        self.graph = graph
        self.flat = ExpandedGraph(graph)
        self.flat.metadata, self.flat.manifest, self.flat.extra = graph.metadata, graph.manifest, graph.extra
        self.scopes: dict[str, Definition] = {}  # instance flat id -> its definition
        self.parent: dict[str, tuple[str, str]] = {}  # instance flat id -> (enclosing scope, local id)
        self.records: dict[str, NodeRecord] = {}  # instance flat id -> the instance, its values applied
        self.problems: list[Problem] = []
        self.nodes: dict[str, NodeRecord] = {}  # the flat graph's nodes and links, filled in at the end
        self.links: dict[tuple[str, str], Link] = {}

    def run(self) -> tuple[Graph, list[Problem]]:
        todo = [""]
        while todo:
            todo += self._place(todo.pop())
        for scope in ["", *self.scopes]:
            self._check_instances(scope)
            for link in self._links(scope).values():
                if self._flat_id(scope, link.dst) in self.nodes:
                    self._connect(scope, link)
        if self.problems:
            return self.graph, self.problems
        self.flat.fill(self.nodes, self.links.values())
        return self.flat, []

    def _nodes(self, scope: str) -> dict[str, NodeRecord]:
        return self.graph.nodes if not scope else self.scopes[scope].nodes

    def _links(self, scope: str) -> dict[tuple[str, str], Link]:
        return self.graph.links if not scope else self.scopes[scope].links

    @staticmethod
    def _flat_id(scope: str, node_id: str) -> str:
        return f"{scope}:{node_id}" if scope else node_id

    def _place(self, scope: str) -> list[str]:
        """Make the nodes of one scope; return the instances inside it, to place next."""
        owner = self.records.get(scope)
        definition = self.scopes.get(scope)
        overrides: dict[str, dict[str, Any]] = {}
        if definition is not None and owner is not None:
            for widget in definition.widgets:
                if widget.name in owner.params:
                    overrides.setdefault(widget.node, {})[widget.param] = owner.params[widget.name]
        inherited = owner.mode if owner is not None and owner.mode != "normal" else None
        where = f"subgraph '{_name(definition)}' (node {scope})" if definition is not None else ""
        nested = []
        for node_id, record in self._nodes(scope).items():
            flat_id = self._flat_id(scope, node_id)
            if flat_id in self.nodes or flat_id in self.scopes:
                self.problems.append(Problem("two nodes get this id once subgraphs are expanded; rename one", flat_id))
                continue
            made = NodeRecord(flat_id, record.type, record.version, dict(record.params) | overrides.get(node_id, {}),
                              dict(record.ui), inherited if inherited and record.mode == "normal" else record.mode,
                              record.extra)
            definition_id = definition_id_of(record.type)
            if definition_id is not None:
                self.scopes[flat_id] = self.graph.subgraphs[definition_id]
                self.parent[flat_id] = (scope, node_id)
                self.records[flat_id] = made
                nested.append(flat_id)
            else:
                self.nodes[flat_id] = made
                if where:
                    self.flat.origin[flat_id] = where
        return nested

    def _check_instances(self, scope: str) -> None:
        found = {node_id: self.scopes[self._flat_id(scope, node_id)] for node_id in self._nodes(scope)
                 if self._flat_id(scope, node_id) in self.scopes}
        self.problems += socket_problems(self._nodes(scope), self._links(scope), found,
                                         lambda node_id: self._flat_id(scope, node_id))

    def _connect(self, scope: str, link: Link) -> None:
        dst = self._flat_id(scope, link.dst)
        source = self._source(scope, link.src, link.src_output)
        if source is None:
            return
        if source[0] == "value":
            self.nodes[dst].params[link.dst_input] = source[1]
            return
        self.links[(dst, link.dst_input)] = Link(source[1], source[2], dst, link.dst_input, link.extra)

    def _source(self, scope: str, src: str, output: str) -> tuple[Any, ...] | None:
        """("link", flat node id, output), ("value", v) or None (nothing reaches this input)."""
        seen: set[tuple[str, str, str]] = set()
        while (scope, src, output) not in seen:
            seen.add((scope, src, output))
            if scope and src == BOUNDARY_IN:
                outer_scope, local = self.parent[scope]
                outer = self._links(outer_scope).get((local, output))
                if outer is None:
                    value = self.records[scope].params.get(output, _UNSET)
                    return None if value is _UNSET else ("value", value)
                scope, src, output = outer_scope, outer.src, outer.src_output
                continue
            flat_id = self._flat_id(scope, src)
            if flat_id in self.scopes:
                inner = self.scopes[flat_id].links.get((BOUNDARY_OUT, output))
                if inner is None:
                    return None
                scope, src, output = flat_id, inner.src, inner.src_output
                continue
            return ("link", flat_id, output) if flat_id in self.nodes else None
        return None
