"""Executor steps 1 and 2: validate a graph (every problem in one pass) and plan what runs.

Only nodes upstream of output nodes run (through the branches switches take, see `branches`), in
networkx topological order with node ids as the tie-break, so the order is the same on every
machine. Validation reports each problem with the
node id and input it is about, so the GUI can mark the node and the CLI can print one line each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from nodeflow.core.errors import Problem
from nodeflow.core.gc_pause import without_cycle_collection
from nodeflow.core.graph import Graph, Link
from nodeflow.core.ids import id_sort_key, sorted_ids
from nodeflow.core.outputs import OutputPathError, output_dir_problem, output_target
from nodeflow.core.reads import resolve_for_header
from nodeflow.core.subgraphs.expand import expand, expand_targets
from nodeflow.engine import branches
from nodeflow.engine.estimate import available_bytes, memory_problems, node_estimates, node_params
from nodeflow.engine.flow_sizes import flow_problems, validation_sizes
from nodeflow.engine.memory_plan import make_memory_plan, model_params
from nodeflow.engine.node_check import NodeChecks
from nodeflow.engine.node_types import TypeFacts, node_classes, type_table
from nodeflow.library import ModelLibrary, default_library


@dataclass(frozen=True)
class Plan:
    order: list[str]  # node ids to consider, topologically sorted
    #: Lazy nodes whose branch was decided before the run -> the lazy inputs they take.
    chosen: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Nodes that run only if an open lazy node asks for them when it runs.
    conditional: frozenset[str] = frozenset()


def output_nodes(graph: Graph) -> list[str]:
    """Output nodes that will run; unknown types count, so running reports them as problems. A muted or
    bypassed one does not (ComfyUI's frontend leaves bypassed nodes out of the prompt: a template's
    bypassed branch, its Save node included, stays unrun)."""
    outputs = {type_id for type_id, cls in node_classes(graph).items() if cls is None or cls.is_output}
    return sorted_ids([node_id for node_id, record in graph.nodes.items()
                       if record.type in outputs and record.mode not in ("muted", "bypass")])


def links_by_destination(graph: Graph) -> dict[str, list[Link]]:
    """Each node's incoming links, in one pass over the links."""
    incoming: dict[str, list[Link]] = {}
    for link in graph.iter_links():
        incoming.setdefault(link.dst, []).append(link)
    return incoming


def make_plan(graph: Graph, targets: list[str] | None = None) -> Plan:
    """The nodes that `targets` (default: all output nodes) need, in topological order: each
    switch's chosen branch where that is known before the run, else every branch it may take
    (see `branches`).

    Assumes the graph was validated (no cycles among the planned nodes). A graph with subgraph
    instances is planned expanded (`plan_graph`), so its order names inner nodes.
    """
    graph = plan_graph(graph)
    targets = targets if targets is not None else output_nodes(graph)
    needs = branches.walk(graph, targets, links_by_destination(graph))
    sub = graph.to_networkx().subgraph(needs.always | needs.conditional)
    order = list(nx.lexicographical_topological_sort(sub, key=id_sort_key))
    return Plan(order, needs.chosen, needs.conditional)


def plan_graph(graph: Graph) -> Graph:
    """The graph a run executes: subgraph instances expanded (the graph itself when it has none).
    Assumes a validated graph; what the plan, the memory plan and the run see."""
    return expand(graph)[0]


def validate(graph: Graph, workflow_dir: Path | None = None, targets: list[str] | None = None,
             output_dir: Path | None = None, device: str = "cpu", memory_budget: int | None = None
             ) -> list[Problem]:
    """Every reason the graph cannot run, all at once (`_validate`), with the cycle collector
    paused: checking a large graph builds many small objects and no cycles."""
    with without_cycle_collection():
        return _validate(graph, workflow_dir, targets, output_dir, device, memory_budget)


def _validate(graph: Graph, workflow_dir: Path | None, targets: list[str] | None, output_dir: Path | None,
              device: str, memory_budget: int | None) -> list[Problem]:
    """Every reason the graph cannot run, all at once.

    With `output_dir`, file-name prefixes and the folder itself are held to the output rule; the
    memory each node needs is compared with what `device` has free (`engine.estimate`) and, with
    `memory_budget` (bytes), with that budget (`engine.memory_plan`). Subgraph instances are
    expanded first; problems inside them name the inner node as `<instance>:<inner>`.
    """
    graph, problems = expand(graph)
    if problems:
        return problems
    targets = expand_targets(graph, targets)
    targets = targets if targets is not None else output_nodes(graph)
    if not targets:
        return [Problem(_no_output_message(graph))]
    incoming = links_by_destination(graph)  # one pass, so checking stays linear in the graph's size
    needs = branches.walk(graph, targets, incoming)
    wanted = set(needs.always | needs.conditional)
    problems = _cycle_problems(graph, wanted, incoming)
    library = default_library()
    search_dirs = library.search_dirs(workflow_dir)
    reads = library.read_rule(workflow_dir)
    ordered = sorted_ids(wanted)
    types = type_table(graph)  # what each node type declares, looked up once per type
    checks = NodeChecks(graph, types, library, search_dirs, reads)
    for node_id in ordered:
        checks.check(node_id, incoming.get(node_id, ()), problems)
        if node_id in needs.chosen:
            problems += _unlinked_choice(graph, node_id, needs.chosen[node_id])
    # A node whose file is refused is not looked at further: that would read the file's header.
    estimated = [node_id for node_id in ordered if node_id not in checks.refused] if checks.refused else ordered
    problems += _device_problems(graph, types, estimated, search_dirs, library, device)
    if output_dir is not None:
        problems += _output_problems(graph, types, ordered, output_dir)
    estimates = node_estimates(graph, estimated, search_dirs)
    problems += memory_problems(estimates, device)
    problems += _flow_problems(graph, estimated, estimates, incoming, device)
    if memory_budget is not None and not problems:
        order = make_plan(graph, targets).order
        problems += make_memory_plan(graph, order, search_dirs, device, memory_budget).problems()
    return problems


def _flow_problems(graph: Graph, estimated: list[str], estimates: list, incoming: dict, device: str) -> list[Problem]:
    """Outputs that cannot fit once the sizes flowing through the graph are known (a batch of 64
    made from one picture, pictures padded three times): refused before any node runs."""
    own = {e.node_id: e.pixels for e in estimates if e.pixels}
    sizes = validation_sizes(graph, estimated, own, lambda node_id: node_params(graph, node_id), incoming)
    return flow_problems(graph, sizes, available_bytes(device), device, incoming) if sizes else []


def _unlinked_choice(graph: Graph, node_id: str, chosen: tuple[str, ...]) -> list[Problem]:
    """A branch a switch takes (decided before the run) that has nothing linked to it."""
    cls = graph.registry.get(graph.nodes[node_id].type)
    return [Problem("is the branch this node takes, but nothing is linked to it", node_id, name)
            for name in chosen if graph.link_into(node_id, name) is None
            and not (cls.input(name).is_parameter and name in graph.nodes[node_id].params)]


def _device_problems(graph: Graph, types: Mapping[str, TypeFacts | None], node_ids: list[str],
                     search_dirs: tuple[Path, ...], library: ModelLibrary, device: str) -> list[Problem]:
    """What each node's parameters ask that this machine cannot run (`Node.device_problems`), asked
    only of the types that declare it."""
    asking = {type_id: facts.cls for type_id, facts in types.items() if facts is not None and facts.checks_device}
    problems: list[Problem] = []
    nodes = graph.nodes
    for node_id in node_ids if asking else ():
        record = nodes[node_id]
        cls = asking.get(record.type)
        if cls is None or record.mode == "muted":
            continue
        params = model_params(graph, node_id, cls, library, search_dirs)
        try:
            found = cls.device_problems(params, lambda name: resolve_for_header(name, search_dirs), device)
        except Exception:  # a plugin's declaration must not break the validation of the rest
            continue
        problems += [Problem(message, node_id, name) for name, message in found]
    return problems


def _output_problems(graph: Graph, types: Mapping[str, TypeFacts | None], node_ids: list[str], output_dir: Path
                     ) -> list[Problem]:
    """The output rule, checked before anything runs: the folder, then each saver's prefix."""
    writing = {type_id: facts.prefixes for type_id, facts in types.items() if facts is not None and facts.prefixes}
    prefixes = []
    nodes = graph.nodes
    for node_id in node_ids if writing else ():
        record = nodes[node_id]
        if record.type in writing and record.mode != "muted":
            prefixes += [(node_id, inp) for inp in writing[record.type]]
    if not prefixes:
        return []
    folder_problem = output_dir_problem(output_dir)
    if folder_problem is not None:
        node_id, inp = prefixes[0]
        return [Problem(folder_problem, node_id, inp.name)]
    problems = []
    for node_id, inp in prefixes:
        if graph.link_into(node_id, inp.name) is not None:
            continue  # a linked prefix is checked when the node writes
        value = graph.nodes[node_id].params.get(inp.name, inp.default)
        try:
            output_target(output_dir, inp.check_value(value))
        except ValueError as exc:
            if isinstance(exc, OutputPathError):
                problems.append(Problem(f"{exc} (got {value!r:.80})", node_id, inp.name))
    return problems


def _no_output_message(graph: Graph) -> str:
    titles = sorted({cls.title for cls in graph.registry if cls.is_output})
    if not titles:
        return "the workflow has no output node (and no installed node type is one)"
    hint = ", ".join(titles[:-1]) + (" or " if len(titles) > 1 else "") + titles[-1]
    return f"the workflow has no output node (add {hint})"


def _cycle_problems(graph: Graph, wanted: set[str], incoming: dict[str, list[Link]]) -> list[Problem]:
    """Each node on a cycle, named with its cycle. A depth-first walk along incoming links finds
    whether there is any cycle in one linear pass; only then does networkx's component search
    name them."""
    left = wanted if _has_cycle(wanted, incoming) else set()
    if not left:
        return []
    g = graph.to_networkx().subgraph(left)
    problems = []
    for component in nx.strongly_connected_components(g):
        if len(component) > 1 or any(g.has_edge(n, n) for n in component):
            cycle = sorted(component, key=id_sort_key)
            path = " -> ".join(cycle + cycle[:1])
            problems += [Problem(f"is part of a cycle ({path}); links must not loop back", n) for n in cycle]
    return problems


_ON_PATH, _DONE = 1, 2  # `_has_cycle`'s marks


def _has_cycle(wanted: set[str], incoming: dict[str, list[Link]]) -> bool:
    """Whether following links upstream from the wanted nodes ever comes back to the path walked.

    A depth-first walk that stacks node ids alone: a node is marked on the path when it is first
    taken from the stack (its sources go on above it) and done when it is on top again. A node
    nothing feeds (numbers, loaders: a good part of any graph) cannot be on a cycle, so the walk
    neither starts at one nor stacks one; it starts from the nodes in link order, which keeps
    neighbours close in memory."""
    marks: dict[str, int] = {}
    for root in incoming:
        if root in marks or root not in wanted:
            continue
        stack = [root]
        while stack:
            node_id = stack[-1]
            if node_id in marks:  # back on top once its sources are walked
                stack.pop()
                marks[node_id] = _DONE
                continue
            marks[node_id] = _ON_PATH
            for link in incoming[node_id]:
                src = link.src
                mark = marks.get(src)
                if mark == _ON_PATH:
                    return True
                if mark is None and src in incoming and src in wanted:
                    stack.append(src)
    return False
