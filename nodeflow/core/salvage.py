"""Load what can be loaded from a damaged workflow: the crash autosave's second chance.

`workflow.loads` refuses a whole file for one bad field, which is right for a file the user
opens (they can fix it) but wrong for the autosave of a session that crashed: there the choice is
between part of the work and none of it. `salvage` keeps every node, link and group that loads on
its own and lists what it left out, each with the loader's own message.
"""

from __future__ import annotations

import json
from typing import Any

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.graph import Graph
from nodeflow.core.registry import Registry
from nodeflow.core.workflow import FORMAT, FORMAT_VERSION, LoadReport, from_data, loads


def salvage(text: str, registry: Registry) -> tuple[Graph, LoadReport, list[str]]:
    """The graph as `workflow.loads` reads it, or, when that refuses the file, the graph of every
    part that loads, and one line per part left out. Raises WorkflowFormatError only when the text
    is not a NodeFlow workflow at all (not JSON, another format, a newer version)."""
    try:
        graph, report = loads(text, registry)
        return graph, report, []
    except WorkflowFormatError:
        pass
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError) as exc:
        raise WorkflowFormatError(f"not valid JSON: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise WorkflowFormatError("not a NodeFlow workflow")
    if not isinstance(data.get("version"), int) or data["version"] > FORMAT_VERSION:
        raise WorkflowFormatError(f"file format version {data.get('version')!r} cannot be read here")
    base: dict[str, Any] = {"format": FORMAT, "version": data["version"], "nodes": [], "links": []}
    dropped: list[str] = []
    nodes: dict[str, dict] = {}
    for index, raw in enumerate(_list(data, "nodes", dropped)):
        problem = _problem(base | {"nodes": [raw]}, registry)
        node_id = raw.get("id") if isinstance(raw, dict) else None
        if problem is None and node_id in nodes:
            problem = "node id used twice"
        if problem is None:
            nodes[node_id] = raw
        else:
            dropped.append(f"nodes/{index}: {problem}")
    links: dict[tuple, dict] = {}
    for index, raw in enumerate(_list(data, "links", dropped)):
        ends = [raw.get("from"), raw.get("to")] if isinstance(raw, dict) else []
        ids = [end[0] for end in ends if isinstance(end, list) and end and isinstance(end[0], str)]
        problem = _problem(base | {"nodes": [nodes[i] for i in dict.fromkeys(ids) if i in nodes],
                                   "links": [raw]}, registry)
        key = tuple(raw["to"]) if problem is None else None
        if key in links:
            problem = "input has two links"
        if problem is None:
            links[key] = raw
        else:
            dropped.append(f"links/{index}: {problem}")
    groups = []
    for index, raw in enumerate(_list(data, "groups", dropped)):
        problem = _problem(base | {"groups": [*groups, raw]}, registry)
        if problem is None:
            groups.append(raw)
        else:
            dropped.append(f"groups/{index}: {problem}")
    kept = base | {"nodes": list(nodes.values()), "links": list(links.values()), "groups": groups}
    for key, value in data.items():
        if key not in kept:
            problem = _problem(kept | {key: value}, registry)
            if problem is None:
                kept[key] = value
            else:
                dropped.append(f"{key}: {problem}")
    graph, report = from_data(kept, registry)
    return graph, report, dropped


def _list(data: dict, key: str, dropped: list[str]) -> list:
    value = data.get(key, [])
    if isinstance(value, list):
        return value
    dropped.append(f"{key}: must be a list")
    return []


def _problem(data: dict, registry: Registry) -> str | None:
    try:
        from_data(data, registry)
    except WorkflowFormatError as exc:
        return str(exc)
    return None
