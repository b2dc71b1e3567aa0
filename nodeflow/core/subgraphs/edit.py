"""Linked edits of subgraphs: a new version of a definition, detach, convert a selection.

Every instance is linked to its definition, so an edit inside a definition reaches every instance
without touching them. Only a change of the definition's sockets (exposed inputs, outputs,
promoted widgets) touches instances: `revise` gives the definition the next version with a
migration (the renames it was told), and carries every instance forward the way node migrations
do; a link or value for a socket that is gone cannot be carried and is named in the returned lines.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable

from nodeflow.core.errors import GraphEditError
from nodeflow.core.graph import Graph, Link, NodeRecord
from nodeflow.core.ids import id_sort_key
from nodeflow.core.subgraphs.definition import (
    BOUNDARY_IN,
    BOUNDARY_OUT,
    Definition,
    Promoted,
    Socket,
    SocketMigration,
    definition_id_of,
    instance_type,
)


def _sockets(definition: Definition) -> list:
    return [[(s.name, s.type) for s in definition.inputs], [(s.name, s.type) for s in definition.outputs],
            [(w.name, w.node, w.param) for w in definition.widgets]]


def add_definition(graph: Graph, definition: Definition) -> None:
    if definition.id in graph.subgraphs:
        raise GraphEditError(f"subgraph '{definition.id}' is already defined")
    graph.subgraphs[definition.id] = definition
    graph.changed.emit()


def revise(graph: Graph, new: Definition, rename_inputs: dict[str, str] | None = None,
           rename_outputs: dict[str, str] | None = None) -> list[str]:
    """Put `new` in place of the definition with its id and carry every instance along.

    When its sockets differ from the definition in use, `new` becomes the next version, with a
    migration holding the renames (a `new` of a higher version keeps its own); returns one line
    per link or value no instance could keep.
    """
    old = graph.subgraphs.get(new.id)
    if old is None:
        raise GraphEditError(f"subgraph '{new.id}' is not defined")
    new = copy.deepcopy(new)
    if new.version > old.version:
        pass  # a newer definition (from a subgraph file) brings its own migrations
    elif _sockets(old) != _sockets(new) or rename_inputs or rename_outputs:
        new.version = old.version + 1
        new.migrations = [m for m in old.migrations if m.from_version < old.version]
        new.migrations.append(SocketMigration(old.version, dict(rename_inputs or {}), dict(rename_outputs or {})))
    graph.subgraphs[new.id] = new
    lost: list[str] = []
    for record in list(graph.nodes.values()):
        if record.type == instance_type(new.id):
            lost += _carry(graph, record.id, new)
    for definition in graph.subgraphs.values():
        for record in definition.nodes.values():
            if record.type == instance_type(new.id):
                lost += _carry_inner(definition, record, new)
    graph.changed.emit()
    return lost


def _steps(definition: Definition, version: int) -> tuple[dict[str, str], dict[str, str]]:
    """The renames from `version` to the definition's version, composed."""
    inputs: dict[str, str] = {}
    outputs: dict[str, str] = {}
    for step in sorted(definition.migrations, key=lambda m: m.from_version):
        if step.from_version >= version:
            inputs = {k: step.rename_inputs.get(v, v) for k, v in inputs.items()} | {
                k: v for k, v in step.rename_inputs.items() if k not in inputs.values()}
            outputs = {k: step.rename_outputs.get(v, v) for k, v in outputs.items()} | {
                k: v for k, v in step.rename_outputs.items() if k not in outputs.values()}
    return inputs, outputs


def _migrated(record: NodeRecord, links: Iterable[Link], definition: Definition, where: str
              ) -> tuple[dict, list[Link], list[str]]:
    rename_in, rename_out = _steps(definition, record.version)
    names = set(definition.instance_names())
    lost = []
    params = {}
    for name, value in record.params.items():
        name = rename_in.get(name, name)
        if name in names:
            params[name] = value
        else:
            lost.append(f"{where}: value {name}={value!r:.40} dropped (subgraph '{definition.name}' version "
                        f"{definition.version} has no such input)")
    kept = []
    for link in links:
        if link.dst == record.id:
            link = Link(link.src, link.src_output, link.dst, rename_in.get(link.dst_input, link.dst_input), link.extra)
            if link.dst_input not in names:
                lost.append(f"{where}: link into '{link.dst_input}' dropped (subgraph '{definition.name}' version "
                            f"{definition.version} has no such input)")
                continue
        if link.src == record.id:
            link = Link(link.src, rename_out.get(link.src_output, link.src_output), link.dst, link.dst_input,
                        link.extra)
            if definition.output(link.src_output) is None:
                lost.append(f"{where}: link from '{link.src_output}' dropped (subgraph '{definition.name}' version "
                            f"{definition.version} has no such output)")
                continue
        kept.append(link)
    return params, kept, lost


def _carry(graph: Graph, node_id: str, definition: Definition) -> list[str]:
    """Re-insert a top-level instance at the definition's version (the canvas rebuilds its sockets)."""
    record, links = graph.remove_node(node_id)
    params, kept, lost = _migrated(record, links, definition, f"node {node_id}")
    record.params, record.version = params, definition.version
    graph.insert_record(record, kept)
    return lost


def _carry_inner(owner: Definition, record: NodeRecord, definition: Definition) -> list[str]:
    links = [link for link in owner.links.values() if record.id in (link.src, link.dst)]
    params, kept, lost = _migrated(record, links, definition, f"subgraph '{owner.name}' node {record.id}")
    record.params, record.version = params, definition.version
    for link in links:
        del owner.links[(link.dst, link.dst_input)]
    for link in kept:
        owner.links[(link.dst, link.dst_input)] = link
    return lost


def unique_definition_id(graph: Graph, name: str) -> str:
    """A short id from the name ("Text to Image" -> "text-to-image", then "-2", "-3"...)."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "subgraph"
    candidate, n = base, 1
    while candidate in graph.subgraphs:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def detach(graph: Graph, node_id: str) -> Definition:
    """Give one instance its own copy of its definition (version 1), so edits no longer reach it."""
    record = graph.node(node_id)
    definition_id = definition_id_of(record.type)
    if definition_id is None or definition_id not in graph.subgraphs:
        raise GraphEditError("is not an instance of a subgraph this workflow defines", node_id)
    copied = copy.deepcopy(graph.subgraphs[definition_id])
    copied.id = unique_definition_id(graph, f"{copied.name} {node_id}")
    copied.name = f"{copied.name} (detached)"
    copied.version, copied.migrations = 1, []
    graph.subgraphs[copied.id] = copied
    record, links = graph.remove_node(node_id)
    record.type, record.version = instance_type(copied.id), 1
    graph.insert_record(record, links)
    return copied


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name}_{n}"
    used.add(candidate)
    return candidate


def convert_to_subgraph(graph: Graph, node_ids: Iterable[str], name: str) -> str:
    """Replace the selected nodes by one instance of a new definition made of them; its id.

    Links crossing the border become sockets (one input per outside source, one output per inside
    source), and every value the user set away from its type's default becomes a promoted widget,
    so the instance shows what was edited. What runs is unchanged.
    """
    chosen = sorted({n for n in node_ids}, key=id_sort_key)
    for node_id in chosen:
        graph.node(node_id)
    if not chosen:
        raise GraphEditError("select the nodes to put into the subgraph")
    inside = set(chosen)
    definition = Definition(unique_definition_id(graph, name), name)
    records, _ = graph.snapshot(chosen)
    definition.nodes = {r.id: r for r in records}
    used: set[str] = set()
    sources: dict[tuple[str, str], str] = {}
    outer: list[tuple[str, str, str, str]] = []  # (src, src_output, dst, dst_input) with "" for the instance
    for link in sorted(graph.links.values(), key=lambda x: (id_sort_key(x.dst), x.dst_input)):
        src_in, dst_in = link.src in inside, link.dst in inside
        if src_in and dst_in:
            definition.links[(link.dst, link.dst_input)] = link
        elif dst_in:
            socket = sources.get((link.src, link.src_output))
            if socket is None:
                cls = graph.node_class(link.dst)
                inp = cls.input(link.dst_input) if cls else None
                kind = graph.output_type(link.src, link.src_output) or (inp.type if inp else "*")
                socket = sources[(link.src, link.src_output)] = _unique(link.dst_input, used)
                definition.inputs.append(Socket(socket, inp.type if inp and kind == "*" else kind))
                outer.append((link.src, link.src_output, "", socket))
            definition.links[(link.dst, link.dst_input)] = Link(BOUNDARY_IN, socket, link.dst, link.dst_input)
        elif src_in:
            socket = sources.get((link.src, link.src_output))
            if socket is None:
                kind = graph.output_type(link.src, link.src_output) or "*"
                socket = sources[(link.src, link.src_output)] = _unique(link.src_output, set(
                    s.name for s in definition.outputs))
                definition.outputs.append(Socket(socket, kind))
                definition.links[(BOUNDARY_OUT, socket)] = Link(link.src, link.src_output, BOUNDARY_OUT, socket)
            outer.append(("", socket, link.dst, link.dst_input))
    for record in definition.nodes.values():
        cls = graph.registry.get(record.type)
        defaults = cls.default_params() if cls is not None else {}
        for param in sorted(record.params):
            if param not in defaults or record.params[param] != defaults[param]:
                definition.widgets.append(Promoted(_unique(param, used), record.id, param))
    positions = [r.ui["pos"] for r in definition.nodes.values() if isinstance(r.ui.get("pos"), list)]
    graph.subgraphs[definition.id] = definition
    for node_id in chosen:
        graph.remove_node(node_id)
    ui = {"pos": [min(p[0] for p in positions), min(p[1] for p in positions)]} if positions else {}
    instance = graph.insert_record(NodeRecord(graph.new_id(), instance_type(definition.id), 1, {}, ui))
    for src, out, dst, inp in outer:
        graph.connect(src or instance.id, out, dst or instance.id, inp)
    return instance.id
