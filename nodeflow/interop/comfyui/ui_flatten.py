"""Flattening a UI workflow: subgraphs and legacy group nodes become ordinary nodes and edges.

Inner nodes get ComfyUI's own execution ids, `<instance id>:<inner id>` (nested levels add more
`:`), so an imported UI file and the API prompt saved with it name nodes alike. Subgraphs are
flattened (not kept as nested graphs); their inner nodes keep their own layout, moved next to
the instance, inside a group titled with the subgraph's name.

Pass-through points (a subgraph instance's inputs and outputs, `Reroute` nodes) stay in the edge
list as ids in `through`; `ui.py` follows edges through them to the real source.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.node_bound import too_many_nodes
from nodeflow.interop.comfyui.ui_instance import instance_values, with_constants
from nodeflow.interop.comfyui.ui_links import as_int, choose, first_listed, link_rows

SUBGRAPH_INPUT, SUBGRAPH_OUTPUT = -10, -20
#: What a link, node or definition of unexpected shape raises; it is reported in one line and skipped.
MALFORMED = (AttributeError, KeyError, IndexError, TypeError, ValueError)


@dataclass(frozen=True)
class Edge:
    src: str
    src_slot: int
    dst: str
    dst_slot: int


@dataclass
class Flat:
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    through: set[str] = field(default_factory=set)
    #: (title, node ids) for each flattened subgraph or group node, to frame them on the canvas.
    frames: list[tuple[str, list[str]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Lines about leftovers dropped as ComfyUI drops them (nothing the graph computes is lost).
    notes: list[str] = field(default_factory=list)


def describe(raw: dict[str, Any], node_id: str) -> str:
    return f"node {node_id} ({raw.get('type', '?')})"


class Flattener:
    def __init__(self, subgraphs: dict[str, dict[str, Any]], group_nodes: dict[str, dict[str, Any]]):
        self.subgraphs, self.group_nodes = subgraphs, group_nodes
        self.flat = Flat()

    def add_graph(self, nodes: list[Any], links: Any, prefix: str = "", boundary: tuple[str, str] | None = None,
                  stack: tuple[str, ...] = (), mode: int | None = None, outputs: Any = None) -> None:
        level: dict[str, dict[str, Any]] = {}
        for raw in nodes if isinstance(nodes, list) else []:
            if not isinstance(raw, dict) or "id" not in raw:
                self.flat.problems.append(f"a node without an id{' in subgraph ' + prefix if prefix else ''}; dropped")
                continue
            raw = copy.copy(raw)
            if mode in (2, 4) and raw.get("mode", 0) == 0:
                raw["mode"] = mode
            node_id = f"{prefix}{raw['id']}"
            if node_id in level:
                self.flat.problems.append(f"{describe(raw, node_id)}: id used twice; the second is dropped")
                continue
            level[node_id] = raw
        edges = self._edges(level, links, prefix, boundary, outputs)
        self.flat.nodes.update(level)
        for node_id, raw in level.items():
            node_type = str(raw.get("type", ""))
            try:
                if node_type in self.subgraphs:
                    edges = self._subgraph(node_id, raw, edges, stack)
                elif _group_name(node_type) in self.group_nodes:
                    edges = self._group_node(node_id, raw, edges)
            except MALFORMED as exc:
                self.flat.problems.append(f"{describe(raw, node_id)}: its definition is malformed "
                                          f"({type(exc).__name__}: {exc}); kept as a placeholder")
        self.flat.edges += edges

    def _edges(self, level: dict[str, dict[str, Any]], links: Any, prefix: str,
               boundary: tuple[str, str] | None, outputs: Any = None) -> list[Edge]:
        """The links[] rows as edges, one per input, chosen as ComfyUI chooses (`ui_links`);
        `outputs` are the definition's output sockets when this level is a subgraph's inside."""
        found: list[tuple[Any, Edge]] = []
        for row in link_rows(links):
            try:
                edge = self._edge(row, level, prefix, boundary)
            except MALFORMED as exc:
                self.flat.problems.append(f"link {row[0]!r}: malformed ({type(exc).__name__}: {exc}); dropped")
                continue
            if edge is not None:
                found.append((row[0], edge))
        rows = [(link_id, e.dst, e.dst_slot) for link_id, e in found]
        sockets = outputs if isinstance(outputs, list) else []

        def named(dst: str, slot: int) -> Any:
            if dst in level:
                spec = (level[dst].get("inputs") or [])[slot]
                return spec.get("link") if isinstance(spec, dict) else None
            present = {r[0] for r in rows if r[1] == dst and r[2] == slot}
            return first_listed(sockets[slot], present) if slot < len(sockets) else None

        def label(dst: str, slot: int) -> str:
            if dst not in level:
                return f"subgraph output {slot} of {prefix.rstrip(':')}"
            spec = (level[dst].get("inputs") or [])[slot]
            return f"{describe(level[dst], dst)}: input '{spec.get('name') if isinstance(spec, dict) else slot}'"

        kept = choose(rows, named, label, self.flat.notes, self.flat.problems)
        listed = {row[0] for row in link_rows(links) if isinstance(row[0], (int, str))}
        for node_id, raw in level.items():
            for slot in raw.get("inputs") if isinstance(raw.get("inputs"), list) else []:
                link = slot.get("link") if isinstance(slot, dict) else None
                if isinstance(link, (int, str)) and link not in listed:
                    self.flat.problems.append(f"{describe(raw, node_id)}: input '{slot.get('name')}' refers to link "
                                              f"{link}, which links[] lacks; left unconnected")
        return [edge for index, (_, edge) in enumerate(found) if index in kept]

    def _edge(self, row: tuple, level: dict[str, dict[str, Any]], prefix: str,
              boundary: tuple[str, str] | None) -> Edge | None:
        """One links[] row as an edge, or None (with a line) when it cannot be one."""
        link_id, origin, o_slot, target, t_slot = row
        o_slot, t_slot = as_int(o_slot), as_int(t_slot)
        src = boundary[0] if boundary and as_int(origin) == SUBGRAPH_INPUT else f"{prefix}{origin}"
        dst = boundary[1] if boundary and as_int(target) == SUBGRAPH_OUTPUT else f"{prefix}{target}"
        if dst not in level and dst != (boundary or ("", ""))[1]:
            # a row left behind when its node was deleted: it feeds nothing, and ComfyUI's link fixer drops it
            self.flat.notes.append(f"link {link_id}: goes to node {dst}, which is not in the file (left over from a "
                                   "deleted node); dropped")
            return None
        where = describe(level[dst], dst) if dst in level else f"subgraph output of {prefix.rstrip(':')}"
        if src not in level and src != (boundary or ("", ""))[0]:
            self.flat.problems.append(f"{where}: link {link_id} comes from node {src}, which is not in the "
                                      "file; dropped")
            return None
        if o_slot is None or t_slot is None:
            self.flat.problems.append(f"{where}: link {link_id} has no valid slot numbers; dropped")
            return None
        if dst in level:
            inputs = level[dst].get("inputs") or []
            if t_slot >= len(inputs) or t_slot < 0:
                self.flat.problems.append(f"{where}: link {link_id} goes to input slot {t_slot}, which the node "
                                          "does not have; dropped")
                return None
        return Edge(src, o_slot, dst, t_slot)

    def _subgraph(self, node_id: str, raw: dict[str, Any], edges: list[Edge], stack: tuple[str, ...]) -> list[Edge]:
        sub_id = str(raw["type"])
        definition = with_constants(self.subgraphs[sub_id])
        name = definition.get("name") or sub_id
        if sub_id in stack:
            self.flat.problems.append(f"{describe(raw, node_id)}: subgraph '{name}' contains itself "
                                      f"({' -> '.join(stack + (sub_id,))}); kept as a placeholder")
            return edges
        out_id = f"{node_id}#out"
        self.flat.through |= {node_id, out_id}
        outputs = _slots_by_name(raw.get("outputs"), definition.get("outputs"))
        edges = [Edge(out_id, outputs.get(e.src_slot, -1), e.dst, e.dst_slot) if e.src == node_id else e
                 for e in edges]
        before, known = set(self.flat.nodes), len(self.flat.edges)
        self.add_graph(definition.get("nodes") or [], definition.get("links"), f"{node_id}:", (node_id, out_id),
                       stack + (sub_id,), as_int(raw.get("mode")), definition.get("outputs"))
        by_slot = _slots_by_name(raw.get("inputs"), definition.get("inputs"))
        self._instance_values(node_id, raw, definition, known, {by_slot[e.dst_slot] for e in edges
                                                                 if e.dst == node_id and e.dst_slot in by_slot})
        inputs = {k: j for j, k in by_slot.items()}
        self.flat.edges[known:] = [Edge(e.src, inputs.get(e.src_slot, -1), e.dst, e.dst_slot) if e.src == node_id
                                   else e for e in self.flat.edges[known:]]
        inner = [n for n in self.flat.nodes if n not in before]
        self._promoted_widgets(node_id, raw)
        self.flat.frames.append((str(name), inner))
        return edges

    def _instance_values(self, node_id: str, raw: dict[str, Any], definition: dict[str, Any], known: int,
                         linked: set[int]) -> None:
        """Values the instance sets on its own inputs (`ui_instance`) go into the inner widgets its
        unlinked inputs feed, replacing those edges; into a nested instance one is not carried over."""
        values, problems = instance_values(raw, definition, describe(raw, node_id))
        self.flat.problems += problems
        kept = []
        for edge in self.flat.edges[known:]:
            if edge.src != node_id or edge.src_slot not in values or edge.src_slot in linked:
                kept.append(edge)
                continue
            target = self.flat.nodes.get(edge.dst, {})
            spec = (target.get("inputs") or [])[edge.dst_slot] if target else None
            widget = spec.get("widget") if isinstance(spec, dict) else None
            if edge.dst in self.flat.through or not isinstance(widget, dict) or "name" not in widget:
                self.flat.problems.append(f"{describe(raw, node_id)}: the value it sets for input {edge.src_slot} of "
                                          f"its subgraph does not reach node {edge.dst}; not carried over")
                kept.append(edge)
                continue
            target.setdefault("promoted", {})[str(widget["name"])] = values[edge.src_slot]
        self.flat.edges[known:] = kept

    def _promoted_widgets(self, node_id: str, raw: dict[str, Any]) -> None:
        """Values the instance shows for inner widgets (proxyWidgets) go into those inner nodes."""
        proxies = (raw.get("properties") or {}).get("proxyWidgets")
        values = raw.get("widgets_values")
        if not isinstance(proxies, list) or not isinstance(values, list) or len(values) != len(proxies):
            return
        for proxy, value in zip(proxies, values):
            if isinstance(proxy, list) and len(proxy) == 2 and f"{node_id}:{proxy[0]}" in self.flat.nodes:
                inner = self.flat.nodes[f"{node_id}:{proxy[0]}"]
                inner.setdefault("promoted", {})[str(proxy[1])] = value

    def _group_node(self, node_id: str, raw: dict[str, Any], edges: list[Edge]) -> list[Edge]:
        """A 2023-24 group node: inner nodes by index, inputs/outputs = their internally unlinked slots."""
        definition = self.group_nodes[_group_name(str(raw["type"]))]
        inner_nodes = [n for n in definition.get("nodes") or [] if isinstance(n, dict) and "index" in n]
        links = [row for row in definition.get("links") or [] if isinstance(row, list) and len(row) >= 4]
        fed = {(row[2], as_int(row[3])) for row in links if row[0] is not None}
        used = {(row[0], as_int(row[1])) for row in links if row[0] is not None}
        ins = [(n["index"], s) for n in inner_nodes for s in range(len(n.get("inputs") or []))
               if (n["index"], s) not in fed]
        outs = [(n["index"], s) for n in inner_nodes for s in range(len(n.get("outputs") or []))
                if (n["index"], s) not in used]
        if len(ins) != len(raw.get("inputs") or []) or len(outs) != len(raw.get("outputs") or []):
            self.flat.problems.append(f"{describe(raw, node_id)}: group node inputs/outputs do not match its "
                                      "definition in extra.groupNodes; kept as a placeholder")
            return edges
        rewired = []
        for e in edges:
            if e.dst == node_id and e.dst_slot < len(ins):
                index, slot = ins[e.dst_slot]
                e = Edge(e.src, e.src_slot, f"{node_id}:{index}", slot)
            if e.src == node_id and e.src_slot < len(outs):
                index, slot = outs[e.src_slot]
                e = Edge(f"{node_id}:{index}", slot, e.dst, e.dst_slot)
            rewired.append(e)
        values = list(raw.get("widgets_values") or [])
        for inner in inner_nodes:
            inner = copy.copy(inner)
            inner["id"] = f"{node_id}:{inner['index']}"
            count = len(inner.get("widgets_values") or [])
            if count:
                inner["widgets_values"], values = values[:count], values[count:]
            if as_int(raw.get("mode")) in (2, 4):
                inner["mode"] = raw["mode"]
            self.flat.nodes[inner["id"]] = inner
        rewired += [Edge(f"{node_id}:{row[0]}", as_int(row[1]), f"{node_id}:{row[2]}", as_int(row[3]))
                    for row in links if row[0] is not None]
        self.flat.through.add(node_id)  # the instance itself no longer stands for anything
        self.flat.frames.append((str(raw["type"]), [f"{node_id}:{n['index']}" for n in inner_nodes]))
        return rewired


def _slots_by_name(instance: Any, definition: Any) -> dict[int, int]:
    """Instance slot -> the definition's socket of the same name: an instance lists only some of
    its definition's inputs (newer frontends show the others as widgets), so slots differ."""
    names = [str(s.get("name")) if isinstance(s, dict) else None for s in definition or []]
    found = {}
    for slot, socket in enumerate(instance if isinstance(instance, list) else []):
        name = str(socket.get("name")) if isinstance(socket, dict) else None
        if name in names:
            found[slot] = names.index(name)
    return found


def _group_name(node_type: str) -> str:
    for prefix in ("workflow/", "workflow>"):
        if node_type.startswith(prefix):
            return node_type[len(prefix):]
    return ""


def flattened_size(nodes: Any, subgraphs: dict[str, dict[str, Any]], group_nodes: dict[str, dict[str, Any]]) -> int:
    """How many nodes flattening `nodes` makes, counted with plain integers (each definition once):
    2,000 group-node instances of 2,000 inner nodes, or subgraphs doubling at every level, are
    counted in microseconds instead of built. A subgraph that contains itself counts as one node
    (it is kept as a placeholder)."""
    sizes: dict[str, int] = {}
    visiting: set[str] = set()

    def size_of(level: Any) -> int:
        total = 0
        for raw in level if isinstance(level, list) else []:
            node_type = str(raw.get("type", "")) if isinstance(raw, dict) else ""
            total += 1
            if node_type in subgraphs:
                total += subgraph(node_type)
            elif (group := group_nodes.get(_group_name(node_type))) is not None and isinstance(group, dict):
                inner = group.get("nodes")
                total += len(inner) if isinstance(inner, list) else 0
        return total

    def subgraph(sub_id: str) -> int:
        if sub_id not in sizes:
            if sub_id in visiting:
                return 0
            visiting.add(sub_id)
            sizes[sub_id] = size_of(subgraphs[sub_id].get("nodes"))
            visiting.discard(sub_id)
        return sizes[sub_id]

    return size_of(nodes)


def flatten(data: dict[str, Any]) -> Flat:
    """The UI workflow's nodes and edges with subgraphs and group nodes unfolded; WorkflowFormatError
    (one line) when that would make more nodes than `core.node_bound` allows, before any is made."""
    definitions = data.get("definitions") if isinstance(data.get("definitions"), dict) else {}
    listed = definitions.get("subgraphs")
    subgraphs = {str(s.get("id")): s for s in listed if isinstance(s, dict)} if isinstance(listed, list) else {}
    extra = data.get("extra") if isinstance(data.get("extra"), dict) else {}
    groups = extra.get("groupNodes") if isinstance(extra.get("groupNodes"), dict) else {}
    count = flattened_size(data.get("nodes"), subgraphs, groups)
    if (refusal := too_many_nodes(count, "this ComfyUI workflow's subgraphs and group nodes")) is not None:
        raise WorkflowFormatError(refusal)
    flattener = Flattener(subgraphs, groups)
    flattener.add_graph(data.get("nodes") or [], data.get("links"))
    return flattener.flat
