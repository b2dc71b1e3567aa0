"""Executor steps 1 and 2: validate a graph (every problem in one pass) and plan what runs.

Only nodes upstream of output nodes run (through the branches switches take, see `branches`), in
networkx topological order with node ids as the tie-break, so the order is the same on every
machine. Validation reports each problem with the
node id and input it is about, so the GUI can mark the node and the CLI can print one line each.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from nodeflow.core.errors import Problem, shown
from nodeflow.core.gc_pause import without_cycle_collection
from nodeflow.core.graph import Graph, Link
from nodeflow.core.ids import id_sort_key, sorted_ids
from nodeflow.core.outputs import OutputPathError, output_dir_problem, output_target
from nodeflow.core.paths import exists, resolve_path
from nodeflow.core.reads import ReadRule, resolve_for_header
from nodeflow.core.spec import REQUIRED, Node
from nodeflow.core.subgraphs.expand import expand, expand_targets
from nodeflow.core.types import ANY, can_connect
from nodeflow.engine import branches
from nodeflow.engine.estimate import available_bytes, memory_problems, node_estimates, node_params
from nodeflow.engine.flow_sizes import flow_problems, validation_sizes
from nodeflow.engine.memory_plan import make_memory_plan, model_params
from nodeflow.library import ModelLibrary, ModelNotFound, default_library


@dataclass(frozen=True)
class Plan:
    order: list[str]  # node ids to consider, topologically sorted
    #: Lazy nodes whose branch was decided before the run -> the lazy inputs they take.
    chosen: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Nodes that run only if an open lazy node asks for them when it runs.
    conditional: frozenset[str] = frozenset()


def output_nodes(graph: Graph) -> list[str]:
    """Output nodes that will run; unknown types count, so running reports them as problems."""
    found = []
    for node_id, record in graph.nodes.items():
        cls = graph.registry.get(record.type)
        if record.mode != "muted" and (cls is None or cls.is_output):
            found.append(node_id)
    return sorted_ids(found)


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
    refused: set[str] = set()
    carried: dict[tuple[str, str], str | None] = {}  # output types through reroutes, walked once
    for node_id in ordered:
        problems += _node_problems(graph, node_id, search_dirs, library, incoming.get(node_id, []), reads, refused,
                                   carried)
        if node_id in needs.chosen:
            problems += _unlinked_choice(graph, node_id, needs.chosen[node_id])
    # A node whose file is refused is not looked at further: that would read the file's header.
    estimated = [node_id for node_id in ordered if node_id not in refused]
    problems += _device_problems(graph, estimated, search_dirs, library, device)
    if output_dir is not None:
        problems += _output_problems(graph, ordered, output_dir)
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


def _device_problems(graph: Graph, node_ids: list[str], search_dirs: tuple[Path, ...], library: ModelLibrary,
                     device: str) -> list[Problem]:
    """What each node's parameters ask that this machine cannot run (`Node.device_problems`)."""
    problems = []
    for node_id in node_ids:
        record = graph.nodes[node_id]
        cls = graph.registry.get(record.type)
        if cls is None or record.mode == "muted" or cls.device_problems.__func__ is Node.device_problems.__func__:
            continue
        params = model_params(graph, node_id, cls, library, search_dirs)
        try:
            found = cls.device_problems(params, lambda name: resolve_for_header(name, search_dirs), device)
        except Exception:  # a plugin's declaration must not break the validation of the rest
            continue
        problems += [Problem(message, node_id, name) for name, message in found]
    return problems


def _output_problems(graph: Graph, node_ids: list[str], output_dir: Path) -> list[Problem]:
    """The output rule, checked before anything runs: the folder, then each saver's prefix."""
    prefixes = []
    for node_id in node_ids:
        cls = graph.registry.get(graph.nodes[node_id].type)
        for inp in cls.inputs if cls is not None and graph.nodes[node_id].mode != "muted" else ():
            if inp.output_prefix:
                prefixes.append((node_id, inp))
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


def _unknown_params(params: dict, cls: type[Node], node_id: str) -> list[Problem]:
    """Values stored under names the node type does not have ("stpes" for "steps"), which would
    otherwise be ignored while the default runs. They stay in the file; the run refuses them."""
    problems = []
    for name in params:
        inp = cls.input(name)
        if inp is not None and inp.is_parameter:
            continue
        if inp is not None:
            problems.append(Problem(f"a {inp.type} input takes a link, not a value", node_id, name))
            continue
        names = [inp.name for inp in cls.inputs if inp.is_parameter]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (it has {', '.join(names) or 'none'})"
        problems.append(Problem(f"'{cls.title}' has no parameter of this name{hint}", node_id, name[:80]))
    return problems


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


def _has_cycle(wanted: set[str], incoming: dict[str, list[Link]]) -> bool:
    """Whether following links upstream from the wanted nodes ever comes back to the path walked."""
    done: set[str] = set()
    for root in wanted:
        if root in done:
            continue
        on_path = {root}
        stack = [(root, iter(incoming.get(root, ())))]
        while stack:
            node_id, links = stack[-1]
            for link in links:
                src = link.src
                if src in on_path:
                    return True
                if src in wanted and src not in done:
                    on_path.add(src)
                    stack.append((src, iter(incoming.get(src, ()))))
                    break
            else:
                stack.pop()
                on_path.discard(node_id)
                done.add(node_id)
    return False


def _node_problems(graph: Graph, node_id: str, search_dirs: tuple[Path, ...], library: ModelLibrary,
                   links_in: list[Link], reads: ReadRule, refused: set[str],
                   carried: dict[tuple[str, str], str | None]) -> list[Problem]:
    """The node's problems; a node with a file input that `reads` refuses is added to `refused`."""
    record = graph.nodes[node_id]
    cls = graph.registry.get(record.type)
    if cls is None:
        return [Problem(f"unknown node type '{record.type}' (is the plugin that provides it installed?)",
                        node_id)]
    problems = _unknown_params(record.params, cls, node_id)
    for link in links_in:
        if cls.input(link.dst_input) is None:
            problems.append(Problem("is linked but the node has no such input", node_id, link.dst_input))
    for inp in cls.inputs:
        link = graph.link_into(node_id, inp.name)
        if link is not None:
            src_cls = graph.registry.get(graph.nodes[link.src].type)
            if src_cls is None:
                continue  # reported on the source node itself
            out = src_cls.output(link.src_output)
            if out is None:
                problems.append(Problem(
                    f"is linked to output '{link.src_output}' of node {link.src}, which has no such output",
                    node_id, inp.name))
                continue
            # only an output of any type (a reroute's) needs the walk to what feeds it
            out_type = out.type if out.type != ANY else graph.output_type(link.src, link.src_output, carried) or ANY
            if not can_connect(out_type, inp.type):
                problems.append(Problem(
                    f"expects {inp.type}, but node {link.src} output '{link.src_output}' gives {out_type}",
                    node_id, inp.name))
            continue
        if not inp.is_parameter:
            if inp.required and not inp.lazy:  # a lazy one only if taken (`_unlinked_choice`)
                problems.append(Problem(f"required {inp.type} input is not linked", node_id, inp.name))
            continue
        value = record.params.get(inp.name, inp.default)
        if value is REQUIRED:
            if not inp.optional:
                problems.append(Problem("has no value and is not linked", node_id, inp.name))
            continue
        try:
            value = inp.check_value(value)
        except ValueError as exc:
            problems.append(Problem(str(exc), node_id, inp.name))
            continue
        if (inp.file or inp.model) and not inp.optional and not str(value).strip():
            what = "model" if inp.model else "folder" if inp.file == "folder" else "file"
            problems.append(Problem(f"no {what} chosen", node_id, inp.name))
        elif inp.model and value:
            try:
                path = library.resolve_recorded(inp.model, value, graph.manifest, search_dirs)
            except ModelNotFound as exc:
                problems.append(Problem(str(exc), node_id, inp.name))
                continue
            if (refusal := reads.refusal(path, value)) is not None:
                refused.add(node_id)
                problems.append(Problem(refusal, node_id, inp.name))
        elif inp.file and value:
            path = resolve_path(value, search_dirs)
            if (refusal := reads.refusal(path, value)) is not None:
                refused.add(node_id)
                problems.append(Problem(refusal, node_id, inp.name))
            elif not exists(path):
                problems.append(Problem(
                    f"file not found: '{shown(value, 120)}' (looked in {', '.join(str(d) for d in search_dirs)})",
                    node_id, inp.name))
    return problems
