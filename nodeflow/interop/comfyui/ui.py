"""Reading ComfyUI UI workflows (schema 0.4 and 1): widgets named by the class map, links by name.

Frontend-only nodes are resolved here: `Reroute`s become reroutes (mapped by the class map; an
unmapped one would pass its links straight through), a `PrimitiveNode`'s value
is written into every widget it drives, `Note`/`MarkdownNote` become notes. Muted (2) and
bypassed (4) nodes keep their mode. Everything not carried over is listed in `Parsed.dropped` or
`Parsed.problems`, each line naming the ComfyUI node id and class.
"""

from __future__ import annotations

from typing import Any

from nodeflow.interop.comfyui.classmap import CONTROL, SHOWN, UPLOAD, Entry, entry_for_class
from nodeflow.interop.comfyui.parsed import CGroup, CNode, CNote, Parsed
from nodeflow.interop.comfyui.ui_flatten import Flat, as_int, describe, flatten
from nodeflow.interop.comfyui.ui_instance import fill_constants

MODES = {0: "normal", 2: "muted", 4: "bypass"}
CONTROL_VALUES = {"fixed": "fixed", "increment": "increment", "increment-wrap": "increment",
                  "decrement": "decrement", "randomize": "randomize"}


#: What a node of unexpected shape raises while it is read; it is dropped with one line naming it.
MALFORMED = (AttributeError, KeyError, IndexError, TypeError, ValueError)


def is_ui_workflow(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("nodes"), list)


def point(value: Any) -> list[float] | None:
    """[x, y] from an array or a serialised Float32Array ({"0": x, "1": y})."""
    if isinstance(value, dict):
        value = [value.get("0"), value.get("1")]
    if (isinstance(value, (list, tuple)) and len(value) >= 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value[:2])):
        return [float(value[0]), float(value[1])]
    return None


def read_ui(data: dict[str, Any]) -> Parsed:
    parsed = Parsed("ui")
    flat = flatten(data)
    parsed.problems += flat.problems
    parsed.leftovers += flat.notes
    inbound = {(e.dst, e.dst_slot): (e.src, e.src_slot) for e in flat.edges}
    for node_id, raw in flat.nodes.items():
        if node_id in flat.through:
            continue
        try:
            _read_node(node_id, raw, flat, inbound, parsed)
        except MALFORMED as exc:
            kind = str(raw.get("type", "?"))
            parsed.nodes.pop(node_id, None)
            parsed.problems.append(f"node {node_id} ({kind}): malformed ({type(exc).__name__}: {exc}); dropped")
            parsed.dropped.append((node_id, kind, "malformed"))
    fill_constants(parsed)
    _frames(parsed, flat)
    for group in data.get("groups") if isinstance(data.get("groups"), list) else []:
        rect = group.get("bounding") if isinstance(group, dict) else None
        if isinstance(rect, list) and len(rect) == 4 and all(point(rect[i:i + 2]) for i in (0, 2)):
            colour = group.get("color") if isinstance(group.get("color"), str) else None
            parsed.groups.append(CGroup(str(group.get("title", "Group")), [float(v) for v in rect], colour))
    hints = list(data.get("models") if isinstance(data.get("models"), list) else [])
    for raw in flat.nodes.values():
        properties = raw.get("properties")
        models = properties.get("models") if isinstance(properties, dict) else None
        hints += models if isinstance(models, list) else []
    parsed.models = model_hashes(hints)
    parsed.model_urls = model_urls(hints)
    return parsed


def _read_node(node_id: str, raw: dict[str, Any], flat: Flat, inbound: dict, parsed: Parsed) -> None:
    """One node of the flat graph: a note, a frontend-only node resolved away, or a ComfyUI node."""
    kind = str(raw.get("type", ""))
    if kind in ("Note", "MarkdownNote"):
        values = raw.get("widgets_values") or [(raw.get("properties") or {}).get("text", "")]
        parsed.notes.append((node_id, CNote(str(values[0] if values else ""), point(raw.get("pos")),
                                            point(raw.get("size")), raw.get("title"), _colour(raw))))
    elif kind == "Reroute" and entry_for_class(kind) is None:
        parsed.dropped.append((node_id, kind, "frontend-only; its links pass straight through"))
    elif kind == "PrimitiveNode":
        parsed.dropped.append((node_id, kind, "frontend-only; its value is written into the widgets it drives"))
    elif not kind:
        parsed.problems.append(f"node {node_id}: no type; dropped")
        parsed.dropped.append((node_id, "?", "no type"))
    else:
        parsed.nodes[node_id] = _node(node_id, raw, flat, inbound, parsed)


def model_hashes(hints: list[Any]) -> dict[str, str]:
    """Manifest entries ("checkpoints/name" -> "sha256:...") from the download hints UI files carry."""
    from nodeflow.library import manifest_key
    from nodeflow.library.kinds import kind_of_folder

    found = {}
    for hint in hints:
        if not isinstance(hint, dict) or not isinstance(hint.get("name"), str):
            continue
        kind = kind_of_folder(str(hint.get("directory", "")))
        digest = hint.get("hash")
        if kind and isinstance(digest, str) and str(hint.get("hash_type", "sha256")).lower() == "sha256" \
                and len(digest) == 64:
            found[manifest_key(kind, hint["name"])] = f"sha256:{digest.lower()}"
    return found


def model_urls(hints: list[Any]) -> dict[str, str]:
    """Manifest entries ("checkpoints/name" -> URL) from the download hints' `url`s (http(s) only;
    whether one may be fetched is decided when it is, by `nodeflow.library.fetch`)."""
    from nodeflow.library import manifest_key
    from nodeflow.library.kinds import kind_of_folder

    found = {}
    for hint in hints:
        if not isinstance(hint, dict) or not isinstance(hint.get("name"), str):
            continue
        kind = kind_of_folder(str(hint.get("directory", "")))
        url = hint.get("url")
        if kind and isinstance(url, str) and url.strip().lower().startswith(("http://", "https://")):
            found.setdefault(manifest_key(kind, hint["name"]), url.strip())
    return found


def _colour(raw: dict[str, Any]) -> str | None:
    colour = raw.get("bgcolor") or raw.get("color")
    return colour if isinstance(colour, str) else None


def _node(node_id: str, raw: dict[str, Any], flat: Flat, inbound: dict, parsed: Parsed) -> CNode:
    kind = str(raw["type"])
    mode = as_int(raw.get("mode")) or 0
    if mode not in MODES:
        parsed.problems.append(f"{describe(raw, node_id)}: mode {mode} (a deprecated event mode) runs as normal")
    node = CNode(node_id, kind, mode=MODES.get(mode, "normal"), title=raw.get("title") if isinstance(
        raw.get("title"), str) else None, pos=point(raw.get("pos")), size=point(raw.get("size")),
        color=_colour(raw), original=raw)
    node.output_names = [str(o.get("name", "")) for o in raw.get("outputs") or [] if isinstance(o, dict)]
    entry = entry_for_class(kind)
    widgets = raw.get("widgets_values")
    if entry is not None and isinstance(widgets, list):
        _name_widgets(node, entry, widgets, parsed)
    for name, value in (raw.get("promoted") or {}).items():
        if name == CONTROL:
            mode_name = CONTROL_VALUES.get(value) if isinstance(value, str) else None
            seed = next(iter(node.seed_control), None)
            if mode_name and seed:
                node.seed_control[seed] = mode_name
        else:
            node.values[name] = value
    inputs = raw.get("inputs") or []
    for slot, spec in enumerate(inputs):
        if (node_id, slot) not in inbound or not isinstance(spec, dict):
            continue
        widget = spec.get("widget") if isinstance(spec.get("widget"), dict) else None
        name = str(widget.get("name") if widget else spec.get("name", slot))
        if entry is not None and name not in entry.inputs and str(spec.get("name")) in entry.inputs:
            # a socket the frontend marked with the widget it once fed (a Reroute's "" input saved with
            # widget "value"): the class has the socket, not the widget, so the socket's name is the input
            name, widget = str(spec.get("name")), None
        source = _follow(inbound[(node_id, slot)], flat, inbound)
        if source is None:
            continue  # a reroute or subgraph input with nothing behind it: the input stays unconnected
        src, src_slot = source
        src_raw = flat.nodes.get(src)
        if src_raw is None:
            parsed.problems.append(f"{describe(raw, node_id)}: input '{name}' links to node {src}, which is not in "
                                   "the file; link dropped")
            continue
        if src_raw.get("type") == "PrimitiveNode":
            value = (src_raw.get("widgets_values") or [None])[0]
            node.values[name] = value
            continue
        outputs = src_raw.get("outputs")
        if isinstance(outputs, list) and outputs and src_slot >= len(outputs):
            parsed.problems.append(f"{describe(raw, node_id)}: input '{name}' links to output slot {src_slot} of "
                                   f"{describe(src_raw, src)}, which it does not have; link dropped")
            continue
        node.links[name] = (src, src_slot)
        if widget:
            node.widget_inputs.append(name)
    return node


def _follow(source: tuple[str, int], flat: Flat, inbound: dict) -> tuple[str, int] | None:
    """The real node and output behind a chain of reroutes and subgraph boundaries."""
    seen = set()
    while source is not None:
        src, slot = source
        if src in seen:
            return None
        seen.add(src)
        raw = flat.nodes.get(src, {})
        if src in flat.through:
            source = inbound.get((src, slot))
        elif raw.get("type") == "Reroute" and entry_for_class("Reroute") is None:
            source = inbound.get((src, 0))
        else:
            return source
    return None


def _name_widgets(node: CNode, entry: Entry, values: list[Any], parsed: Parsed) -> None:
    """widgets_values through the class's widget order; the control and upload slots are tolerated
    missing (newer frontends skip unsaved widgets); any other mismatch keeps the raw list."""
    index, missing = 0, []
    last = None
    for widget in entry.widgets_for(values):
        here = values[index] if index < len(values) else None
        if widget == CONTROL:
            if index < len(values) and (isinstance(here, bool) or here in CONTROL_VALUES):
                mode = ("randomize" if here else "fixed") if isinstance(here, bool) else CONTROL_VALUES[here]
                if last is not None:
                    node.seed_control[last] = mode
                index += 1
            continue
        if widget == SHOWN:
            index += 1 if index < len(values) else 0
            continue
        if widget == UPLOAD:
            if index < len(values) and (here is None or here == "image"):
                index += 1
            continue
        if widget.endswith("*"):  # the rest, numbered from 0
            node.values |= {f"{widget[:-1]}{n}": value for n, value in enumerate(values[index:])}
            index = len(values)
            continue
        if index < len(values):
            node.values[widget] = here
            index += 1
            last = widget
        else:
            missing.append(widget)
    extra = values[index:]
    names = entry.widget_names(values)
    expected = f"{len(names)} ({', '.join(names) or 'none'})"
    if extra:
        node.unnamed = list(values)
        parsed.problems.append(f"node {node.id} ({node.class_type}): {len(values)} widget values where the class "
                               f"has {expected}; mapped from the front, the last {len(extra)} are not carried over")
    elif missing:
        node.unnamed = list(values)
        parsed.older.append(f"node {node.id} ({node.class_type}): {len(values)} widget values where the class has "
                            f"{expected}, saved by an older version; {', '.join(missing)} take their defaults")


def _frames(parsed: Parsed, flat: Flat) -> None:
    """Flattened subgraphs and group nodes: inner nodes moved next to their instance, framed."""
    for title, inner in flat.frames:
        members = [parsed.nodes[i] for i in inner if i in parsed.nodes and parsed.nodes[i].pos]
        if not members:
            continue
        instance = flat.nodes.get(inner[0].rsplit(":", 1)[0], {})
        anchor = point(instance.get("pos")) or [0.0, 0.0]
        left = min(n.pos[0] for n in members)
        top = min(n.pos[1] for n in members)
        for n in members:
            n.pos = [anchor[0] + n.pos[0] - left, anchor[1] + n.pos[1] - top]
        right = max(n.pos[0] + (n.size or [200, 100])[0] for n in members)
        bottom = max(n.pos[1] + (n.size or [200, 100])[1] for n in members)
        parsed.groups.append(CGroup(title, [anchor[0] - 20, anchor[1] - 50, right - anchor[0] + 40,
                                            bottom - anchor[1] + 70]))
