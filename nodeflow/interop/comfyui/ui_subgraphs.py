"""ComfyUI subgraphs (UI 0.4 `definitions.subgraphs`) imported as NodeFlow subgraphs, not flattened.

Each definition is read and mapped like a graph of its own (the same reader, class map and
builder as the top level), with two stand-in nodes for its boundary: ComfyUI's input node (id -10,
one output per exposed input) and output node (id -20, one input per exposed output); their links
become the definition's `@in` / `@out` links. An instance (a node whose type is a definition's
uuid, at the top or inside another definition) becomes a `subgraph/<uuid>` node whose sockets are
named by the definition's. `properties.proxyWidgets` (`[inner node id, widget]`) become promoted
widgets; a `"-1"` entry is a widget of an exposed input, which is that input's socket already.
Expanding the result (`core.subgraphs.expand`) gives the graph the flattening importer gives, with
the same `<instance>:<inner>` ids.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core.registry import Registry
from nodeflow.core.subgraphs.definition import BOUNDARY_IN, BOUNDARY_OUT, instance_type
from nodeflow.interop.comfyui.build import build
from nodeflow.interop.comfyui.classmap import entry_for_class
from nodeflow.interop.comfyui.report import ImportReport
from nodeflow.interop.comfyui.ui import read_ui
from nodeflow.interop.comfyui.ui_flatten import SUBGRAPH_INPUT, SUBGRAPH_OUTPUT, as_int, link_rows
from nodeflow.interop.comfyui.ui_instance import instance_values, with_constants
from nodeflow.interop.comfyui.ui_links import first_listed

#: Class names of the boundary stand-ins (never ComfyUI classes, so never in the class map).
_IN_CLASS, _OUT_CLASS = "NodeFlow subgraph inputs", "NodeFlow subgraph outputs"
_IN_ID, _OUT_ID = str(SUBGRAPH_INPUT), str(SUBGRAPH_OUTPUT)
#: ComfyUI socket types that NodeFlow calls otherwise: a combo is a STRING with choices.
_TYPES = {"COMBO": "STRING"}


def definitions_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    definitions = data.get("definitions") if isinstance(data.get("definitions"), dict) else {}
    listed = definitions.get("subgraphs") if isinstance(definitions.get("subgraphs"), list) else []
    return {str(d["id"]): d for d in listed if isinstance(d, dict) and isinstance(d.get("id"), str) and d["id"]}


def import_with_subgraphs(data: dict[str, Any], registry: Registry, report: ImportReport, convention: str
                          ) -> dict[str, Any]:
    """NodeFlow workflow data for a UI workflow, its subgraph definitions kept as definitions."""
    definitions = definitions_of(data)
    top = {k: v for k, v in data.items() if k != "definitions"}
    result = build(read_ui(top), registry, report, convention)
    proxies = _proxies(data.get("nodes"), definitions)
    made = []
    for raw in definitions.values():
        for nested in raw.get("nodes") if isinstance(raw.get("nodes"), list) else []:
            for key, value in _proxies([nested], definitions).items():
                proxies.setdefault(key, value)
    manifest = result.pop("manifest", {})
    for uuid, raw in definitions.items():
        made.append(_definition(uuid, raw, registry, report, convention, definitions, proxies.get(uuid, []),
                                manifest))
    if manifest:  # the model hints (hashes, download URLs) of every level, as flattening gives them
        result["manifest"] = manifest
    where = {uuid: _name(raw) for uuid, raw in definitions.items()}
    _instances(result["nodes"], result["links"], definitions, report, "", where, _by_id(data.get("nodes")))
    result["subgraphs"] = made
    report.placeholders = [p for p in report.placeholders if p[1] not in definitions]
    return result


def _name(raw: dict[str, Any]) -> str:
    return str(raw.get("name") or raw.get("id"))


def _proxies(nodes: Any, definitions: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """Each definition's proxyWidgets, from the first instance of it that has them."""
    found: dict[str, list[Any]] = {}
    for raw in nodes if isinstance(nodes, list) else []:
        kind = str(raw.get("type")) if isinstance(raw, dict) else ""
        properties = raw.get("properties") if isinstance(raw, dict) and isinstance(raw.get("properties"), dict) else {}
        if kind in definitions and isinstance(properties.get("proxyWidgets"), list):
            found.setdefault(kind, properties["proxyWidgets"])
    return found


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name or "value", 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def _sockets(raw: dict[str, Any], key: str) -> list[dict[str, str]]:
    listed = [s for s in raw.get(key) or [] if isinstance(s, dict)]
    names = _unique([str(s.get("name", "")) for s in listed])
    return [{"name": n, "type": _TYPES.get(str(s.get("type", "*")), str(s.get("type") or "*"))}
            for n, s in zip(names, listed)]


def _as_graph(raw: dict[str, Any], inputs: list[dict[str, str]], outputs: list[dict[str, str]]) -> dict[str, Any]:
    """The definition as a UI graph of its own, its boundary as two stand-in nodes; each stand-in
    output names the link its definition socket takes (`ui_links`)."""
    stand_in = {"id": SUBGRAPH_INPUT, "type": _IN_CLASS, "mode": 0, "inputs": [],
                "outputs": [{"name": s["name"], "type": s["type"], "links": []} for s in inputs]}
    into: dict[int | None, set[Any]] = {}  # output slot -> ids of the rows that go into it
    for row in link_rows(raw.get("links")):
        if as_int(row[3]) == SUBGRAPH_OUTPUT:
            into.setdefault(as_int(row[4]), set()).add(row[0])
    listed = [s for s in raw.get("outputs") or [] if isinstance(s, dict)]
    stand_out = {"id": SUBGRAPH_OUTPUT, "type": _OUT_CLASS, "mode": 0, "outputs": [],
                 "inputs": [{"name": s["name"], "type": s["type"], "link": first_listed(socket, into.get(i, set()))}
                            for i, (s, socket) in enumerate(zip(outputs, listed))]}
    nodes = [n for n in raw.get("nodes") or [] if not (isinstance(n, dict) and as_int(n.get("id")) in
                                                       (SUBGRAPH_INPUT, SUBGRAPH_OUTPUT))]
    return {"version": 0.4, "nodes": [*nodes, stand_in, stand_out], "links": raw.get("links") or [],
            "groups": raw.get("groups") or []}


def _definition(uuid: str, raw: dict[str, Any], registry: Registry, report: ImportReport, convention: str,
                definitions: dict[str, dict[str, Any]], proxies: list[Any], manifest: dict[str, Any]
                ) -> dict[str, Any]:
    """One definition as NodeFlow subgraph data; its model hints go into the workflow's `manifest`."""
    name = _name(raw)
    inputs, outputs = _sockets(raw, "inputs"), _sockets(raw, "outputs")
    own = ImportReport()
    data = build(read_ui(_as_graph(with_constants(raw), inputs, outputs)), registry, own, convention)
    for section, table in data.get("manifest", {}).items():
        manifest.setdefault(section, {}).update({k: v for k, v in table.items() if k not in manifest[section]})
    nodes = [n for n in data["nodes"] if n["id"] not in (_IN_ID, _OUT_ID)]
    links = []
    for link in data["links"]:
        (src, out), (dst, inp) = link["from"], link["to"]
        if src == _IN_ID:
            index = int(out[3:])
            link = {"from": [BOUNDARY_IN, inputs[index]["name"]], "to": [dst, inp]}
        if dst == _OUT_ID:
            link = {"from": link["from"], "to": [BOUNDARY_OUT, inp]}
        links.append(link)
    where = {d: _name(r) for d, r in definitions.items()}
    _instances(nodes, links, definitions, own, f"subgraph '{name}': ", where, _by_id(raw.get("nodes")))
    own.placeholders = [p for p in own.placeholders if p[1] not in (_IN_CLASS, _OUT_CLASS, *definitions)]
    own.mapped = [m for m in own.mapped if m[1] not in (_IN_CLASS, _OUT_CLASS)]
    _merge(report, own, name)
    item: dict[str, Any] = {"id": uuid, "name": name, "version": 1, "inputs": inputs, "outputs": outputs}
    widgets = _widgets(proxies, nodes, [s["name"] for s in inputs])
    if widgets:
        item["widgets"] = widgets
    item |= {"nodes": nodes, "links": links}
    if data.get("groups"):
        item["groups"] = data["groups"]
    return item


def _widgets(proxies: list[Any], nodes: list[dict[str, Any]], taken: list[str]) -> list[dict[str, str]]:
    """Promoted widgets from proxyWidgets, for inner nodes NodeFlow maps (a placeholder has no params)."""
    by_id = {n["id"]: n for n in nodes}
    found = []
    for proxy in proxies:
        if not (isinstance(proxy, list) and len(proxy) == 2) or str(proxy[0]) == "-1":
            continue
        node = by_id.get(str(proxy[0]))
        kept = node.get("comfyui", {}) if node else {}
        entry = entry_for_class(str(kept.get("class_type", ""))) if "imported_params" in kept else None
        param = entry.inputs.get(str(proxy[1])) if entry is not None else None
        if param is not None and param in node["params"]:
            found.append((str(proxy[1]), node["id"], param))
    names = _unique(taken + [name for name, _, _ in found])[len(taken):]
    return [{"name": n, "node": node_id, "param": param} for n, (_, node_id, param) in zip(names, found)]


def _by_id(nodes: Any) -> dict[str, dict[str, Any]]:
    return {str(n["id"]): n for n in nodes if isinstance(n, dict) and "id" in n} if isinstance(nodes, list) else {}


def _instances(nodes: list[dict[str, Any]], links: list[dict[str, Any]], definitions: dict[str, dict[str, Any]],
               report: ImportReport, where: str, names: dict[str, str], raws: dict[str, dict[str, Any]]) -> None:
    """Placeholders whose class is a definition's uuid become its instances, sockets by name; the
    values the file sets on an instance's unlinked inputs become its values (`ui_instance`)."""
    linked = {(link["to"][0], link["to"][1]) for link in links}
    outputs: dict[str, list[str]] = {}
    inputs: dict[str, dict[str, str]] = {}  # instance -> ComfyUI input name -> socket name
    for node in nodes:
        uuid = node.get("comfyui", {}).get("class_type")
        if node["type"] != uuid or uuid not in definitions:
            continue
        raw = definitions[uuid]
        node["type"], node["version"], node["params"] = instance_type(uuid), 1, {}
        node["comfyui"] = {"class_type": uuid}
        outputs[node["id"]] = [s["name"] for s in _sockets(raw, "outputs")]
        listed = [str(s.get("name", "")) for s in raw.get("inputs") or [] if isinstance(s, dict)]
        sockets = [s["name"] for s in _sockets(raw, "inputs")]
        inputs[node["id"]] = dict(reversed(list(zip(listed, sockets))))
        values, problems = instance_values(raws.get(node["id"], {}), raw, f"{where}node {node['id']} ({_name(raw)})")
        report.problems += problems
        node["params"] = {sockets[i]: v for i, v in values.items() if (node["id"], listed[i]) not in linked}
    kept = []
    for link in links:
        (src, out), (dst, inp) = link["from"], link["to"]
        if src in outputs:
            index = int(out[3:]) if out.startswith("out") and out[3:].isdigit() else -1
            if not 0 <= index < len(outputs[src]):
                report.problems.append(f"{where}node {dst}: input '{inp}' takes output {out} of subgraph "
                                       f"'{names.get(src, src)}' (node {src}), which it does not have; link dropped")
                continue
            link = {**link, "from": [src, outputs[src][index]]}
        if dst in inputs:
            if inp not in inputs[dst]:
                report.problems.append(f"{where}node {dst}: input '{inp}' is not an input of its subgraph; "
                                       "link dropped")
                continue
            link = {**link, "to": [dst, inputs[dst][inp]]}
        kept.append(link)
    links[:] = kept


def _merge(report: ImportReport, own: ImportReport, name: str) -> None:
    """A definition's own report lines, each saying which subgraph it is about."""
    report.mapped += [(f"{i} in '{name}'", c, t) for i, c, t in own.mapped]
    report.placeholders += [(f"{i} in '{name}'", c, w) for i, c, w in own.placeholders]
    report.dropped += [(f"{i} in '{name}'", c, w) for i, c, w in own.dropped]
    report.problems += [f"subgraph '{name}': {line}" for line in own.problems]
    report.notes += [f"subgraph '{name}': {line}" for line in own.notes]
    report.unproven += [f"subgraph '{name}': {line}" for line in own.unproven]
