"""NodeFlow graph -> ComfyUI API prompt, so a NodeFlow workflow can be queued on a ComfyUI server.

Every node with a class-map entry is written under its ComfyUI class with ComfyUI's input names.
A node imported from ComfyUI whose params are unchanged gives back the file's own values (so
ComfyUI -> NodeFlow -> ComfyUI keeps every value, even where a conversion rounds); edited ones are
converted back (`Entry.export`). Placeholders give back their class and inputs unchanged. As in
ComfyUI's own export, muted nodes, notes and reroutes are left out and bypassed nodes are wired
through. Nodes without a ComfyUI equivalent are left out and reported. Subgraph instances are
expanded first, so inner nodes get ComfyUI's execution ids, `<instance>:<inner>`.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core.graph import Graph, Link
from nodeflow.core.subgraphs.expand import expand
from nodeflow.core.types import ANY
from nodeflow.interop.comfyui.classmap import Entry, entry_for_node


def export_api(graph: Graph) -> tuple[dict[str, Any], list[str]]:
    """(API prompt, problems): one problem line per node or link that could not be exported."""
    graph, refused = expand(graph)
    if refused:
        return {}, [str(p) for p in refused]
    prompt: dict[str, Any] = {}
    problems: list[str] = []
    for node_id in sorted(graph.nodes, key=_id_key):
        record = graph.nodes[node_id]
        cls = graph.registry.get(record.type)
        if record.mode in ("muted", "bypass") or (cls is not None and (cls.passthrough or not _has_sockets(cls))):
            continue
        kept = record.extra.get("comfyui") if isinstance(record.extra.get("comfyui"), dict) else {}
        entry = entry_for_node(record.type) if cls is not None else None
        if cls is None and kept.get("class_type"):
            class_type, inputs = kept["class_type"], dict(kept.get("inputs") or {})
            if not inputs and kept.get("widgets_values"):
                problems.append(f"node {node_id} ({class_type}): its widget values cannot be named without "
                                "ComfyUI's definition of the class; exported without them")
            names = None
        elif entry is not None:
            class_type, inputs = entry.comfy, _values(graph, node_id, entry, kept)
            names = {nf: comfy for comfy, nf in entry.inputs.items()}
        else:
            problems.append(f"{graph.label(node_id)}: no ComfyUI equivalent; not exported")
            continue
        for link in graph.links_into(node_id):
            name = link.dst_input if names is None else names.get(link.dst_input)
            source = _source(graph, link)
            if name is None or source is None:
                problems.append(f"node {node_id} ({class_type}): input '{link.dst_input}' cannot be linked in "
                                "ComfyUI; left out")
                continue
            inputs[name] = source
            for nf_name, comfy_name in (names or {}).items():
                if comfy_name == name and nf_name != link.dst_input:
                    inputs.pop(nf_name, None)
        item: dict[str, Any] = {"inputs": inputs, "class_type": class_type}
        title = record.ui.get("title")
        item["_meta"] = {"title": title if isinstance(title, str) else class_type}
        prompt[node_id] = item
    problems += _dangling(prompt)
    return prompt, problems


def _has_sockets(cls) -> bool:
    return bool(cls.outputs) or cls.is_output or any(not i.is_parameter for i in cls.inputs)


def _values(graph: Graph, node_id: str, entry: Entry, kept: dict[str, Any]) -> dict[str, Any]:
    record = graph.nodes[node_id]
    cls = graph.registry.get(record.type)
    params = cls.default_params() | record.params
    if kept.get("imported_params") == record.params and isinstance(kept.get("inputs"), dict):
        return dict(kept["inputs"])
    if entry.export is not None:
        params = entry.export(params)
    names = {nf: comfy for comfy, nf in entry.inputs.items()}
    values = {names[k]: v for k, v in params.items() if k in names and k not in entry.fixed}
    return {k: ({"__value__": v} if isinstance(v, list) else v) for k, v in values.items()}


def _source(graph: Graph, link: Link) -> list[Any] | None:
    """[source id, output index] behind reroutes and bypassed nodes, or None."""
    seen = set()
    while link is not None and link.src not in seen:
        seen.add(link.src)
        record = graph.nodes[link.src]
        cls = graph.registry.get(record.type)
        if cls is not None and (cls.passthrough or record.mode == "bypass"):
            link = _through(graph, link, cls)
            continue
        if cls is None and record.mode == "bypass":  # a placeholder: no types known, its first input
            link = next(iter(graph.links_into(link.src)), None)
            continue
        if cls is None:
            output = link.src_output
            return [link.src, int(output[3:])] if output.startswith("out") and output[3:].isdigit() else None
        entry = entry_for_node(record.type)
        if entry is None or record.mode == "muted" or link.src_output not in entry.outputs:
            return None
        return [link.src, entry.outputs.index(link.src_output)]
    return None


def _through(graph: Graph, link: Link, cls) -> Link | None:
    """What a reroute or bypassed node passes to `link`: the first linked input of the output's type."""
    out = cls.output(link.src_output)
    out_type = out.type if out is not None else ANY
    for inp in cls.inputs:
        upstream = graph.link_into(link.src, inp.name)
        if upstream is not None and (inp.type in (out_type, ANY) or out_type == ANY):
            return upstream
    return None


def _dangling(prompt: dict[str, Any]) -> list[str]:
    """Links to nodes that were left out are removed (ComfyUI would refuse them)."""
    problems = []
    for node_id, item in prompt.items():
        for name, value in list(item["inputs"].items()):
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and value[0] not in prompt:
                problems.append(f"node {node_id} ({item['class_type']}): input '{name}' came from node {value[0]}, "
                                "which was not exported; left out")
                del item["inputs"][name]
    return problems


def _id_key(node_id: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in node_id.split(":"))
