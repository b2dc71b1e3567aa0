"""The values a subgraph instance sets on its own inputs, and where ComfyUI applies them.

ComfyUI's frontend gives a subgraph instance one widget for each input of its definition that
feeds an inner widget, in the definition's input order, and saves their values in the instance's
`widgets_values`. When the instance's input has no link, every inner input that subgraph input
feeds (widget or plain socket) receives that widget's value at execution (the value resolved for a
subgraph input in `ExecutableNodeDTO`). NodeFlow gives such a value to inner widgets as a literal;
an inner input that is a plain socket (e.g. a switch's branch) takes values only through a link,
so `with_constants` puts a constant node (a ComfyUI `Primitive*`, mapped like any other) between
the subgraph input and that socket: its widget is then fed like any other inner widget.
"""

from __future__ import annotations

import copy
from typing import Any

from nodeflow.interop.comfyui.parsed import Parsed
from nodeflow.interop.comfyui.ui_links import as_int, link_rows

#: A widget's ComfyUI type -> the Primitive class that stands for it in front of a plain socket.
CONSTANT_CLASSES = {"STRING": "PrimitiveString", "COMBO": "PrimitiveString", "INT": "PrimitiveInt",
                    "FLOAT": "PrimitiveFloat", "BOOLEAN": "PrimitiveBoolean"}
_DEFAULTS = {"PrimitiveString": "", "PrimitiveInt": 0, "PrimitiveFloat": 0.0, "PrimitiveBoolean": False}
_INPUT_ID = -10
#: The key on a constant's raw node that names the inner widget whose value it shares.
SAME_AS = "nodeflow_same_as"


def _key(value: Any) -> Any:
    return as_int(value) if as_int(value) is not None else value


def _row(link: Any) -> tuple[Any, Any, Any, Any, Any] | None:
    """One links[] row, ids and slots as ints where they are numbers; None for a malformed one."""
    rows = link_rows([link])
    if not rows:
        return None
    link_id, origin, slot, target, target_slot = rows[0]
    return link_id, _key(origin), as_int(slot), _key(target), as_int(target_slot)


def _rows(definition: dict[str, Any]) -> list[tuple[Any, Any, Any, Any, Any]]:
    links = definition.get("links") if isinstance(definition.get("links"), list) else []
    return [row for row in map(_row, links) if row is not None]


def _spec(nodes: dict[Any, dict[str, Any]], target: Any, slot: Any) -> dict[str, Any] | None:
    node = nodes.get(target)
    inputs = node.get("inputs") if isinstance(node, dict) and isinstance(node.get("inputs"), list) else []
    spec = inputs[slot] if isinstance(slot, int) and 0 <= slot < len(inputs) else None
    return spec if isinstance(spec, dict) else None


def _nodes(definition: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    listed = definition.get("nodes") if isinstance(definition.get("nodes"), list) else []
    return {_key(n.get("id")): n for n in listed if isinstance(n, dict)}


def widget_inputs(definition: dict[str, Any]) -> list[int]:
    """Indexes of the definition's inputs that show as widgets on an instance: those that feed
    at least one inner widget."""
    nodes = _nodes(definition)
    found = {row[2] for row in _rows(definition) if row[1] == _INPUT_ID
             and isinstance((_spec(nodes, row[3], row[4]) or {}).get("widget"), dict)}
    count = len(definition.get("inputs") or []) if isinstance(definition.get("inputs"), list) else 0
    return [index for index in range(count) if index in found]


def instance_values(raw: dict[str, Any], definition: dict[str, Any], where: str) -> tuple[dict[int, Any], list[str]]:
    """(definition input index -> the value the instance sets on it, problem lines). Files that
    promote inner widgets with `properties.proxyWidgets` keep those values elsewhere (see
    `ui_flatten`); a `widgets_values` list that fits neither is reported, not guessed."""
    values = raw.get("widgets_values")
    proxies = (raw.get("properties") or {}).get("proxyWidgets") if isinstance(raw.get("properties"), dict) else None
    if not isinstance(values, list) or not values or (isinstance(proxies, list) and len(proxies) == len(values)):
        return {}, []
    shown = widget_inputs(definition)
    if len(shown) != len(values):
        return {}, [f"{where}: {len(values)} values on the subgraph instance where its definition has {len(shown)} "
                    "widget inputs; they are not carried over"]
    return dict(zip(shown, values)), []


def _first_widget(nodes: dict[Any, dict[str, Any]], slot: int, definition: dict[str, Any]) -> list[str]:
    """[inner node id, widget name] of the first inner widget the input feeds: the widget the
    instance shows, whose value it keeps when the instance saves none."""
    for row in _rows(definition):
        widget = (_spec(nodes, row[3], row[4]) or {}).get("widget") if row[1] == _INPUT_ID and row[2] == slot else None
        if isinstance(widget, dict) and "name" in widget:
            return [str(row[3]), str(widget["name"])]
    return []


def fill_constants(parsed: Parsed) -> None:
    """A constant made by `with_constants` that no instance value reached takes the value of the
    inner widget its input shows (as the instance's widget does in ComfyUI)."""
    for node in parsed.nodes.values():
        same = node.original.get(SAME_AS)
        if not (isinstance(same, list) and len(same) == 2) or "promoted" in node.original:
            continue
        scope = node.id.rsplit(":", 1)[0] + ":" if ":" in node.id else ""
        sibling = parsed.nodes.get(f"{scope}{same[0]}")
        if sibling is not None and same[1] in sibling.values:
            node.values["value"] = sibling.values[same[1]]
        else:
            parsed.problems.append(f"node {node.id} ({node.class_type}): stands for subgraph input '{node.title}', "
                                   f"whose value is widget '{same[1]}' of node {scope}{same[0]}, which is not known; "
                                   "it keeps the default")


def with_constants(definition: dict[str, Any]) -> dict[str, Any]:
    """A copy of the definition in which each input shown as a widget reaches its plain-socket
    targets through a constant node `in<index>`, so its value has a widget to go into."""
    nodes = _nodes(definition)
    inputs = definition.get("inputs") if isinstance(definition.get("inputs"), list) else []
    shown = set(widget_inputs(definition))
    ids = [row[0] for row in _rows(definition) if isinstance(row[0], int)]
    next_id = max(ids, default=0) + 1
    added_nodes: dict[int, dict[str, Any]] = {}
    links: list[Any] = []
    for original in definition.get("links") if isinstance(definition.get("links"), list) else []:
        row = _row(original)
        if row is None:
            links.append(original)
            continue
        link_id, origin, slot, target, target_slot = row
        spec = _spec(nodes, target, target_slot)
        socket = inputs[slot] if isinstance(slot, int) and 0 <= slot < len(inputs) else None
        kind = CONSTANT_CLASSES.get(str(socket.get("type"))) if isinstance(socket, dict) else None
        if origin != _INPUT_ID or slot not in shown or spec is None or "widget" in spec or kind is None:
            links.append(original)
            continue
        if slot not in added_nodes:
            added_nodes[slot] = {"id": f"in{slot}", "type": kind, "mode": 0, "title": str(socket.get("name")),
                                 SAME_AS: _first_widget(nodes, slot, definition),
                                 "inputs": [{"name": "value", "type": socket["type"], "widget": {"name": "value"},
                                             "link": next_id}],
                                 "outputs": [{"name": "value", "type": socket["type"], "links": []}],
                                 "widgets_values": [_DEFAULTS[kind]]}
            links.append({"id": next_id, "origin_id": _INPUT_ID, "origin_slot": slot, "target_id": f"in{slot}",
                          "target_slot": 0, "type": socket["type"]})
            next_id += 1
        added_nodes[slot]["outputs"][0]["links"].append(link_id)
        links.append({"id": link_id, "origin_id": f"in{slot}", "origin_slot": 0, "target_id": target,
                      "target_slot": target_slot, "type": socket["type"]})
    if not added_nodes:
        return definition
    changed = copy.copy(definition)
    changed["nodes"] = [*(definition.get("nodes") or []), *added_nodes.values()]
    changed["links"] = links
    return changed
