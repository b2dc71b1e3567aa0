"""Workflow files: the graph <-> JSON, with versioning, migration and a reproducibility manifest.

Format (see `resources/workflow.schema.json`)::

    {"format": "nodeflow-workflow", "version": 1,
     "nodes": [{"id": "1", "type": "core.number", "version": 1, "params": {"value": 3},
                "pos": [0, 0], ...}],
     "links": [{"from": ["1", "value"], "to": ["2", "a"]}],
     "groups": [...], "metadata": {...}, "manifest": {...},
     "subgraphs": [{"id": "t2i", "name": "Text to Image", "version": 1,
                    "inputs": [{"name": "model", "type": "MODEL"}], "outputs": [...],
                    "widgets": [{"name": "seed", "node": "3", "param": "seed"}],
                    "nodes": [...], "links": [{"from": ["@in", "model"], "to": ["3", "model"]}, ...],
                    "groups": [...], "migrations": [{"from": 1, "rename_inputs": {...}}]}]}

Rules: sockets and values are addressed by name; every node carries its type's version and old
nodes are migrated forward on load; node types the registry lacks load as placeholders; fields
this version does not know are kept and written back; output is canonical, so a file written by
`dumps` loads and saves to the same bytes. Loading only reads data: it never runs code.
Subgraph definitions (`core.subgraphs`) are read before the nodes, so an instance (a node of type
`subgraph/<id>`) migrates forward like any node type when its definition's version is newer.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from nodeflow.core import jsontext
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.gc_pause import without_cycle_collection
from nodeflow.core.graph import Graph, Group, Link, NodeRecord
from nodeflow.core.ids import id_sort_key
from nodeflow.core.manifest import runtime_drift
from nodeflow.core.records import NODE_MODES
from nodeflow.core.registry import Registry
from nodeflow.core.schema import check_schema
from nodeflow.core.subgraphs.definition import (
    BOUNDARY_IDS,
    BOUNDARY_IN,
    BOUNDARY_OUT,
    Definition,
    Promoted,
    Socket,
    SocketMigration,
    definition_id_of,
)
from nodeflow.core.subgraphs.expand import socket_problems

FORMAT = "nodeflow-workflow"
FORMAT_VERSION = 1
UI_KEYS = ("pos", "size", "title", "color", "collapsed", "widget_inputs", "seed_control")
_NODE_KEYS = frozenset(("id", "type", "version", "params", "mode", *UI_KEYS))
_TOP_KEYS = ("format", "version", "nodes", "links", "groups", "metadata", "manifest", "subgraphs")
_DEFINITION_KEYS = ("id", "name", "version", "inputs", "outputs", "widgets", "nodes", "links", "groups",
                    "migrations")


@dataclass
class LoadReport:
    """What the loader noticed: migrations done, placeholders kept, environment drift."""

    migrated: list[str] = field(default_factory=list)
    unknown_types: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return self.migrated + self.unknown_types + self.drift


#: Deepest nesting of lists and objects a workflow may hold. Real files need about 6; a 900-deep
#: value loads but cannot be written back (into a saved PNG, say) without overflowing the stack.
MAX_DEPTH = 64


def loads(text: str, registry: Registry) -> tuple[Graph, LoadReport]:
    """Parse workflow JSON text into a new Graph. Raises only WorkflowFormatError.

    A UTF-8 byte order mark (what some Windows editors write) is skipped. Every number must be
    finite ("1e400" is infinity in Python), so what loads can always be written back.
    """
    with without_cycle_collection():  # a big file is many small objects and no cycles
        try:
            data = json.loads(text.removeprefix("\ufeff"), parse_constant=_refuse_constant,
                              parse_float=_finite_float)
        except (ValueError, RecursionError) as exc:
            raise WorkflowFormatError(f"not valid JSON: {' '.join(str(exc).split())[:200]}") from None
        return from_data(data, registry)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a workflow (JSON has no such number)")


def _finite_float(text: str) -> float:
    """A JSON number; one too large for a float ("1e400") reads as infinity, which `_check_depth`
    then refuses naming the node and input it is in."""
    return float(text)


def _check_depth(data: Any) -> None:
    """Refuse data nested deeper than MAX_DEPTH (iteratively: deep data must not overflow here)
    and numbers that are not finite, whoever parsed the JSON (the ComfyUI importer does too).

    It walks every value of a file, so it goes one level at a time and asks each value's exact
    class first: strings and integers, most of a workflow, are passed over with one comparison."""
    level = [data] if isinstance(data, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise WorkflowFormatError(f"values are nested more than {MAX_DEPTH} levels deep")
        below: list[Any] = []
        for value in level:
            for child in value.values() if isinstance(value, dict) else value:
                kind = type(child)
                if kind is str or kind is int:
                    continue
                if isinstance(child, (dict, list)):
                    below.append(child)
                elif isinstance(child, float) and not math.isfinite(child):
                    raise WorkflowFormatError("a number too large for a float (or not a number) is not allowed; "
                                              "numbers must be finite", *_where_not_finite(data))
        level = below


def _where_not_finite(data: Any) -> tuple[str | None, str | None]:
    """(node id, input) of the first parameter holding a non-finite number ((None, None) if it is
    elsewhere); looked for only once one was found, so loading pays nothing for it."""
    for node in data.get("nodes", []) if isinstance(data, dict) and isinstance(data.get("nodes"), list) else ():
        params = node.get("params") if isinstance(node, dict) else None
        for name, value in params.items() if isinstance(params, dict) else ():
            if isinstance(value, float) and not math.isfinite(value):
                return str(node.get("id")), str(name)
    return None, None


def from_data(data: Any, registry: Registry) -> tuple[Graph, LoadReport]:
    """A new Graph from parsed workflow data (`loads`, or a file any importer parsed); raises only
    WorkflowFormatError. The cycle collector is paused meanwhile, whoever calls: a big workflow
    is many small objects and no cycles (`core.gc_pause`)."""
    with without_cycle_collection():
        return _from_data(data, registry)


def _from_data(data: Any, registry: Registry) -> tuple[Graph, LoadReport]:
    _check_depth(data)
    check_schema(data)
    if data["version"] > FORMAT_VERSION:
        raise WorkflowFormatError(
            f"file format version {data['version']} is newer than this NodeFlow reads "
            f"({FORMAT_VERSION}); update NodeFlow"
        )
    graph = Graph(registry)
    report = LoadReport()
    _read_definitions(data.get("subgraphs", []), graph, report)
    nodes, links = _read_level(data["nodes"], data["links"], graph.registry, report)
    graph.fill(nodes, links.values(), _read_groups(data.get("groups", [])))
    instances = {i: graph.subgraphs[d] for i, r in graph.nodes.items()
                 if (d := definition_id_of(r.type)) is not None and d in graph.subgraphs}
    report.migrated += [f"{p}; kept, but it cannot run until fixed" for p in
                        socket_problems(graph.nodes, graph.links, instances)] if instances else []
    graph.metadata = dict(data.get("metadata", {}))
    graph.manifest = dict(data.get("manifest", {}))
    graph.extra = {k: v for k, v in data.items() if k not in _TOP_KEYS}
    report.drift += runtime_drift(graph.manifest)
    return graph, report


def _read_level(raw_nodes: list, raw_links: list, registry: Registry, report: LoadReport, where: str = "",
                boundary: Definition | None = None) -> tuple[dict[str, NodeRecord], dict[tuple[str, str], Link]]:
    """The nodes and links of the workflow or (with `boundary`) of one subgraph definition."""
    nodes: dict[str, NodeRecord] = {}
    renames: dict[str, tuple[list[dict[str, str]], list[dict[str, str]]]] = {}
    for raw in raw_nodes:
        record, in_steps, out_steps = _read_node(raw, registry, report)
        if record.id in nodes:
            raise WorkflowFormatError(f"{where}node id used twice", record.id)
        if boundary is not None and record.id in BOUNDARY_IDS:
            raise WorkflowFormatError(f"{where}the ids {' and '.join(BOUNDARY_IDS)} name the subgraph's "
                                      "boundary, not a node", record.id)
        nodes[record.id] = record
        if in_steps:  # migrated: its links' socket names follow the renames
            renames[record.id] = (in_steps, out_steps)
    links: dict[tuple[str, str], Link] = {}
    for index, raw in enumerate(raw_links):
        link = _read_link(raw, index, nodes, renames, where, boundary)
        key = (link.dst, link.dst_input)
        if key in links:
            raise WorkflowFormatError(f"{where}input has two links", link.dst, link.dst_input)
        links[key] = link
    return nodes, links


def _read_groups(raw_groups: list) -> list[Group]:
    groups: dict[str, Group] = {}
    for raw in raw_groups:
        extra = {k: v for k, v in raw.items() if k not in ("id", "title", "rect", "color")}
        group = Group(raw["id"], raw["title"], list(raw["rect"]), raw.get("color"), extra)
        if group.id in groups:
            raise WorkflowFormatError(f"group id {group.id} used twice")
        groups[group.id] = group
    return list(groups.values())


def _read_definitions(raw_list: list, graph: Graph, report: LoadReport) -> None:
    """Every definition's sockets and version first (instances inside others migrate by them),
    then each one's nodes and links."""
    for raw in raw_list:
        definition = Definition(
            raw["id"], raw.get("name", raw["id"]), raw.get("version", 1),
            [Socket(s["name"], s["type"], _rest(s, ("name", "type"))) for s in raw.get("inputs", [])],
            [Socket(s["name"], s["type"], _rest(s, ("name", "type"))) for s in raw.get("outputs", [])],
            [Promoted(w["name"], w["node"], w["param"], _rest(w, ("name", "node", "param")))
             for w in raw.get("widgets", [])],
            migrations=[SocketMigration(m["from"], dict(m.get("rename_inputs", {})), dict(m.get("rename_outputs", {})))
                        for m in raw.get("migrations", [])],
            extra=_rest(raw, _DEFINITION_KEYS))
        where = f"subgraph '{definition.id}': "
        if definition.id in graph.subgraphs:
            raise WorkflowFormatError(f"{where}defined twice")
        for kind, names in (("input", [s.name for s in definition.inputs] + [w.name for w in definition.widgets]),
                            ("output", [s.name for s in definition.outputs])):
            if len(names) != len(set(names)):
                raise WorkflowFormatError(f"{where}an {kind} name is used twice")
        graph.subgraphs[definition.id] = definition
    for raw in raw_list:
        definition = graph.subgraphs[raw["id"]]
        where = f"subgraph '{definition.id}': "
        definition.nodes, definition.links = _read_level(raw.get("nodes", []), raw.get("links", []),
                                                         graph.registry, report, where, definition)
        definition.groups = _read_groups(raw.get("groups", []))
        for widget in definition.widgets:
            if widget.node not in definition.nodes:
                raise WorkflowFormatError(f"{where}widget '{widget.name}' sets node {widget.node}, which it lacks")


def _rest(raw: dict, known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in known}


def _read_node(raw: dict, registry: Registry, report: LoadReport
               ) -> tuple[NodeRecord, list[dict[str, str]], list[dict[str, str]]]:
    node_id = raw["id"]
    mode = raw.get("mode", "normal")
    if mode not in NODE_MODES:
        raise WorkflowFormatError(f"mode must be one of {', '.join(NODE_MODES)}", node_id)
    record = NodeRecord(
        id=node_id,
        type=raw["type"],
        version=raw.get("version", 1),
        params=dict(raw.get("params", {})),
        ui={k: raw[k] for k in UI_KEYS if k in raw},
        mode=mode,
        extra={k: v for k, v in raw.items() if k not in _NODE_KEYS},
    )
    in_steps: list[dict[str, str]] = []
    out_steps: list[dict[str, str]] = []
    cls = registry.get(record.type)
    if cls is None:
        report.unknown_types.append(
            f"node {node_id}: unknown node type '{record.type}' kept as a placeholder "
            "(install the plugin that provides it to run this workflow)"
        )
        return record, in_steps, out_steps
    record.type = cls.type_id
    if record.version > cls.version:
        report.drift.append(
            f"node {node_id}: saved by a newer '{cls.type_id}' (version {record.version}, "
            f"this NodeFlow has {cls.version})"
        )
    start = record.version
    while record.version < cls.version:
        step = cls.migrations.get(record.version)
        if step is None:
            raise WorkflowFormatError(
                f"no migration for '{cls.type_id}' from version {record.version}", node_id
            )
        record.params = {step.rename_inputs.get(k, k): v for k, v in record.params.items()}
        if step.params is not None:
            record.params = dict(step.params(dict(record.params)))
        in_steps.append(dict(step.rename_inputs))
        out_steps.append(dict(step.rename_outputs))
        record.version += 1
    if record.version != start:
        report.migrated.append(
            f"node {node_id}: '{cls.type_id}' migrated from version {start} to {record.version}"
        )
    return record, in_steps, out_steps


def _read_link(raw: dict, index: int, nodes: dict[str, NodeRecord],
               renames: dict[str, tuple[list[dict[str, str]], list[dict[str, str]]]], where: str = "",
               boundary: Definition | None = None) -> Link:
    (src, out), (dst, inp) = raw["from"], raw["to"]
    for node_id, end in ((src, BOUNDARY_IN), (dst, BOUNDARY_OUT)):
        if boundary is not None and node_id == end:
            socket = boundary.input(out) if end == BOUNDARY_IN else boundary.output(inp)
            if socket is None:
                name = out if end == BOUNDARY_IN else inp
                raise WorkflowFormatError(f"{where}link {index + 1} uses its {end[1:]}put '{name}', which it "
                                          "does not declare")
        elif node_id not in nodes:
            raise WorkflowFormatError(f"{where}link {index + 1} refers to node {node_id}, which is not in the file")
    out = _renamed(out, renames[src][1]) if src in renames else out
    inp = _renamed(inp, renames[dst][0]) if dst in renames else inp
    extra = tuple(sorted((k, v) for k, v in raw.items() if k not in ("from", "to"))) if len(raw) > 2 else ()
    return Link(src, out, dst, inp, extra)


def _renamed(name: str, steps: list[dict[str, str]]) -> str:
    """A socket name as saved, followed through each migration's renames."""
    for step in steps:
        name = step.get(name, name)
    return name


def _nodes_data(nodes: dict[str, NodeRecord]) -> list[dict[str, Any]]:
    items = []
    for record in sorted(nodes.values(), key=lambda r: id_sort_key(r.id)):
        item: dict[str, Any] = {"id": record.id, "type": record.type, "version": record.version}
        item["params"] = {k: record.params[k] for k in sorted(record.params)}
        if record.mode != "normal":
            item["mode"] = record.mode
        item |= {k: record.ui[k] for k in UI_KEYS if k in record.ui}
        item |= {k: record.extra[k] for k in sorted(record.extra)}
        items.append(item)
    return items


def _links_data(links: dict[tuple[str, str], Link]) -> list[dict[str, Any]]:
    return [{"from": [link.src, link.src_output], "to": [link.dst, link.dst_input], **dict(link.extra)}
            for link in sorted(links.values(), key=lambda x: (id_sort_key(x.dst), x.dst_input))]


def _groups_data(groups: list[Group]) -> list[dict[str, Any]]:
    return [{"id": g.id, "title": g.title, "rect": g.rect, **({"color": g.color} if g.color else {}),
             **{k: g.extra[k] for k in sorted(g.extra)}}
            for g in sorted(groups, key=lambda g: id_sort_key(g.id))]


def definition_data(definition: Definition) -> dict[str, Any]:
    """One subgraph definition as plain JSON data in canonical order (also a subgraph file's body)."""
    item: dict[str, Any] = {"id": definition.id, "name": definition.name, "version": definition.version}
    item["inputs"] = [{"name": s.name, "type": s.type, **s.extra} for s in definition.inputs]
    item["outputs"] = [{"name": s.name, "type": s.type, **s.extra} for s in definition.outputs]
    if definition.widgets:
        item["widgets"] = [{"name": w.name, "node": w.node, "param": w.param, **w.extra} for w in definition.widgets]
    item["nodes"] = _nodes_data(definition.nodes)
    item["links"] = _links_data(definition.links)
    if definition.groups:
        item["groups"] = _groups_data(definition.groups)
    if definition.migrations:
        item["migrations"] = [{"from": m.from_version, **({"rename_inputs": m.rename_inputs} if m.rename_inputs
                                                          else {}),
                               **({"rename_outputs": m.rename_outputs} if m.rename_outputs else {})}
                              for m in sorted(definition.migrations, key=lambda m: m.from_version)]
    return item | {k: definition.extra[k] for k in sorted(definition.extra)}


def to_data(graph: Graph) -> dict[str, Any]:
    """The graph as plain JSON data in canonical order."""
    data: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION, "nodes": _nodes_data(graph.nodes),
                            "links": _links_data(graph.links)}
    if graph.groups:
        data["groups"] = _groups_data(list(graph.groups.values()))
    if graph.subgraphs:
        data["subgraphs"] = [definition_data(graph.subgraphs[k]) for k in sorted(graph.subgraphs, key=id_sort_key)]
    if graph.metadata:
        data["metadata"] = graph.metadata
    if graph.manifest:
        data["manifest"] = graph.manifest
    data |= {k: graph.extra[k] for k in sorted(graph.extra)}
    return data


def dumps(graph: Graph) -> str:
    """Canonical workflow text: the same graph always gives the same bytes."""
    return jsontext.dumps(to_data(graph))

