"""Reading ComfyUI API prompts (`{id: {class_type, inputs, _meta}}`, bare or as a POST /prompt body).

Inputs are named, so no widget order is needed. A link is `[source id, output index]`; a widget
value that is itself a list arrives wrapped as `{"__value__": [...]}`. The prompt has no layout,
so nodes are laid out in columns by their depth in the graph.
"""

from __future__ import annotations

from typing import Any

from nodeflow.interop.comfyui.parsed import CNode, Parsed

#: Inputs the frontend leaks into prompts that are buttons, not values (LoadImage's upload).
UI_ONLY_INPUTS = ("upload", "choose file to upload")
COLUMN, ROW = 340.0, 260.0


def is_api_prompt(data: Any) -> bool:
    """Every value is a node object with a class_type (what ComfyUI's server requires)."""
    return (isinstance(data, dict) and bool(data)
            and all(isinstance(v, dict) and "class_type" in v for v in data.values()))


def unwrap_post_body(data: Any) -> tuple[Any, Any]:
    """(prompt, embedded UI workflow or None) from a POST /prompt body; (data, None) otherwise."""
    if isinstance(data, dict) and isinstance(data.get("prompt"), dict) and is_api_prompt(data["prompt"]):
        extra = data.get("extra_data")
        info = extra.get("extra_pnginfo") if isinstance(extra, dict) else None
        workflow = info.get("workflow") if isinstance(info, dict) else None
        return data["prompt"], workflow if isinstance(workflow, dict) else None
    return data, None


def is_link(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], (int, float)) and not isinstance(value[1], bool))


def read_api(prompt: dict[str, Any]) -> Parsed:
    parsed = Parsed("api")
    for node_id, raw in prompt.items():
        node_id = str(node_id)
        class_type = raw.get("class_type")
        inputs = raw.get("inputs", {})
        if not isinstance(class_type, str) or not class_type or not isinstance(inputs, dict):
            parsed.problems.append(f"node {node_id}: no class_type or no inputs object; node dropped")
            parsed.dropped.append((node_id, str(class_type), "not a node (no class_type or inputs)"))
            continue
        node = CNode(node_id, class_type, original=raw)
        meta = raw.get("_meta")
        if isinstance(meta, dict) and isinstance(meta.get("title"), str):
            node.title = meta["title"]
        for name, value in inputs.items():
            if is_link(value):
                node.links[name] = (value[0], int(value[1]))
            elif isinstance(value, dict) and set(value) == {"__value__"}:
                node.values[name] = value["__value__"]
            elif name not in UI_ONLY_INPUTS:
                node.values[name] = value
        parsed.nodes[node_id] = node
    for node in parsed.nodes.values():
        for name, (src, _) in list(node.links.items()):
            if src not in parsed.nodes:
                parsed.problems.append(f"node {node.id} ({node.class_type}): input '{name}' links to node {src}, "
                                       "which is not in the file; link dropped")
                del node.links[name]
    _lay_out(parsed)
    return parsed


def _lay_out(parsed: Parsed) -> None:
    """Columns by longest path from a source node, rows in id order: readable, deterministic."""
    depth: dict[str, int] = {}

    def depth_of(node_id: str, trail: frozenset[str]) -> int:
        if node_id in depth:
            return depth[node_id]
        if node_id in trail:
            return 0  # a cycle: validation reports it; layout just stops here
        sources = [src for src, _ in parsed.nodes[node_id].links.values()]
        depth[node_id] = max((depth_of(s, trail | {node_id}) + 1 for s in sources), default=0)
        return depth[node_id]

    rows: dict[int, int] = {}
    for node_id in sorted(parsed.nodes, key=_id_key):
        column = depth_of(node_id, frozenset())
        parsed.nodes[node_id].pos = [column * COLUMN, rows.get(column, 0) * ROW]
        rows[column] = rows.get(column, 0) + 1


def _id_key(node_id: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in node_id.split(":"))
