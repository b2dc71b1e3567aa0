"""Workflow files: the graph <-> JSON, with versioning, migration and a reproducibility manifest.

Format (see `resources/workflow.schema.json`)::

    {"format": "nodeflow-workflow", "version": 1,
     "nodes": [{"id": "1", "type": "core.number", "version": 1, "params": {"value": 3},
                "pos": [0, 0], ...}],
     "links": [{"from": ["1", "value"], "to": ["2", "a"]}],
     "groups": [...], "metadata": {...}, "manifest": {...}}

Rules: sockets and values are addressed by name; every node carries its type's version and old
nodes are migrated forward on load; node types the registry lacks load as placeholders; fields
this version does not know are kept and written back; output is canonical, so a file written by
`dumps` loads and saves to the same bytes. Loading only reads data: it never runs code.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from nodeflow.core import jsontext
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.graph import NODE_MODES, Graph, Group, Link, NodeRecord, id_sort_key
from nodeflow.core.manifest import runtime_drift
from nodeflow.core.registry import Registry
from nodeflow.core.schema import check_schema

FORMAT = "nodeflow-workflow"
FORMAT_VERSION = 1
UI_KEYS = ("pos", "size", "title", "color", "collapsed", "widget_inputs", "seed_control")
_NODE_KEYS = ("id", "type", "version", "params", "mode", *UI_KEYS)
_TOP_KEYS = ("format", "version", "nodes", "links", "groups", "metadata", "manifest")


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
    try:
        data = json.loads(text.removeprefix("\ufeff"), parse_constant=_refuse_constant,
                          parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise WorkflowFormatError(f"not valid JSON: {' '.join(str(exc).split())[:200]}") from None
    return from_data(data, registry)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a workflow (JSON has no such number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large (no finite value)")
    return value


def _check_depth(data: Any) -> None:
    """Refuse data nested deeper than MAX_DEPTH (iteratively: deep data must not overflow here)
    and numbers that are not finite, whoever parsed the JSON (the ComfyUI importer does too)."""
    todo = [(data, 1)] if isinstance(data, (dict, list)) else []
    while todo:
        value, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise WorkflowFormatError(f"values are nested more than {MAX_DEPTH} levels deep")
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, (dict, list)):
                todo.append((child, depth + 1))
            elif isinstance(child, float) and not math.isfinite(child):
                raise WorkflowFormatError(f"the number {child} is not allowed (numbers must be finite)")


def from_data(data: Any, registry: Registry) -> tuple[Graph, LoadReport]:
    _check_depth(data)
    check_schema(data)
    if data["version"] > FORMAT_VERSION:
        raise WorkflowFormatError(
            f"file format version {data['version']} is newer than this NodeFlow reads "
            f"({FORMAT_VERSION}); update NodeFlow"
        )
    graph = Graph(registry)
    report = LoadReport()
    renames: dict[str, tuple[list[dict[str, str]], list[dict[str, str]]]] = {}
    for raw in data["nodes"]:
        record, in_steps, out_steps = _read_node(raw, registry, report)
        if record.id in graph.nodes:
            raise WorkflowFormatError("node id used twice", record.id)
        graph.nodes[record.id] = record
        renames[record.id] = (in_steps, out_steps)
    for index, raw in enumerate(data["links"]):
        link = _read_link(raw, index, graph, renames)
        key = (link.dst, link.dst_input)
        if key in graph.links:
            raise WorkflowFormatError("input has two links", link.dst, link.dst_input)
        graph.links[key] = link
    for raw in data.get("groups", []):
        extra = {k: v for k, v in raw.items() if k not in ("id", "title", "rect", "color")}
        group = Group(raw["id"], raw["title"], list(raw["rect"]), raw.get("color"), extra)
        if group.id in graph.groups:
            raise WorkflowFormatError(f"group id {group.id} used twice")
        graph.groups[group.id] = group
    graph.metadata = dict(data.get("metadata", {}))
    graph.manifest = dict(data.get("manifest", {}))
    graph.extra = {k: v for k, v in data.items() if k not in _TOP_KEYS}
    report.drift += runtime_drift(graph.manifest)
    return graph, report


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


def _read_link(raw: dict, index: int, graph: Graph,
               renames: dict[str, tuple[list[dict[str, str]], list[dict[str, str]]]]) -> Link:
    (src, out), (dst, inp) = raw["from"], raw["to"]
    for node_id in (src, dst):
        if node_id not in graph.nodes:
            raise WorkflowFormatError(f"link {index + 1} refers to node {node_id}, which is not in the file")
    out = _renamed(out, renames[src][1])
    inp = _renamed(inp, renames[dst][0])
    extra = tuple(sorted((k, v) for k, v in raw.items() if k not in ("from", "to")))
    return Link(src, out, dst, inp, extra)


def _renamed(name: str, steps: list[dict[str, str]]) -> str:
    """A socket name as saved, followed through each migration's renames."""
    for step in steps:
        name = step.get(name, name)
    return name


def to_data(graph: Graph) -> dict[str, Any]:
    """The graph as plain JSON data in canonical order."""
    nodes = []
    for record in sorted(graph.nodes.values(), key=lambda r: id_sort_key(r.id)):
        item: dict[str, Any] = {"id": record.id, "type": record.type, "version": record.version}
        item["params"] = {k: record.params[k] for k in sorted(record.params)}
        if record.mode != "normal":
            item["mode"] = record.mode
        item |= {k: record.ui[k] for k in UI_KEYS if k in record.ui}
        item |= {k: record.extra[k] for k in sorted(record.extra)}
        nodes.append(item)
    links = []
    for link in sorted(graph.links.values(), key=lambda x: (id_sort_key(x.dst), x.dst_input)):
        links.append({"from": [link.src, link.src_output], "to": [link.dst, link.dst_input], **dict(link.extra)})
    data: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION, "nodes": nodes, "links": links}
    if graph.groups:
        data["groups"] = [
            {"id": g.id, "title": g.title, "rect": g.rect, **({"color": g.color} if g.color else {}),
             **{k: g.extra[k] for k in sorted(g.extra)}}
            for g in sorted(graph.groups.values(), key=lambda g: id_sort_key(g.id))
        ]
    if graph.metadata:
        data["metadata"] = graph.metadata
    if graph.manifest:
        data["manifest"] = graph.manifest
    data |= {k: graph.extra[k] for k in sorted(graph.extra)}
    return data


def dumps(graph: Graph) -> str:
    """Canonical workflow text: the same graph always gives the same bytes."""
    return jsontext.dumps(to_data(graph))

