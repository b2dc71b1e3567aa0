"""The graph model: the one source of truth that the GUI, the CLI and the executor share.

Nodes and links are keyed by ids and socket *names*. Every edit goes through a method here that
checks it first and raises `GraphEditError` (leaving the graph untouched) when it is refused, then
announces the change on a signal. The GUI redraws from those signals and its undo commands call
these methods, so nothing the user sees can disagree with what is saved or run.

A node whose type the registry lacks (a missing plugin) is kept as a placeholder with all its data
and links; it can be moved, deleted and saved, but not edited or run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import networkx as nx

from nodeflow.core.connections import carried_type, check_connection
from nodeflow.core.errors import GraphEditError
from nodeflow.core.events import Signal
from nodeflow.core.ids import id_sort_key
from nodeflow.core.link_table import LinkTable
from nodeflow.core.records import NODE_MODES, Group, Link, NodeMode, NodeRecord, check_group, not_finite
from nodeflow.core.registry import Registry
from nodeflow.core.schema import item_problem
from nodeflow.core.spec import REQUIRED, Node
from nodeflow.core.subgraphs.overlay import SubgraphRegistry


def node_title(record: NodeRecord, cls: type[Node] | None) -> str:
    """What a node is called on screen and in logs: the user's title, else the type's own."""
    return str(record.ui.get("title") or default_title(record, cls))


def default_title(record: NodeRecord, cls: type[Node] | None) -> str:
    """A node's title when the user gave none (placeholders say which type is missing)."""
    return cls.title if cls is not None else f"{record.type} (missing)"


class Graph:
    def __init__(self, registry: Registry):
        #: Subgraph definitions by id (`core.subgraphs.definition.Definition`); their instances
        #: are nodes whose class the registry makes from the definition (`core.subgraphs.overlay`).
        self.subgraphs: dict[str, Any] = {}
        self.registry: Registry = SubgraphRegistry(registry, self.subgraphs)
        self._nodes: dict[str, NodeRecord] = {}
        self._links = LinkTable()  # keyed by (dst, dst_input): one link per input; indexed by node
        self._groups: dict[str, Group] = {}
        self._views = MappingProxyType(self._nodes), MappingProxyType(self._groups)
        self.metadata: dict[str, Any] = {}
        #: Environment and model hashes of the last run (see core.manifest); saved with the file.
        self.manifest: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}  # unknown top-level fields of the file, kept on save
        self.node_added = Signal()  # (NodeRecord)
        self.node_removed = Signal()  # (NodeRecord)
        self.link_added = Signal()  # (Link)
        self.link_removed = Signal()  # (Link)
        self.param_changed = Signal()  # (node_id, name, value)
        self.node_changed = Signal()  # (node_id, what) for ui and mode changes
        self.group_changed = Signal()  # (group_id) added, removed or edited
        self.changed = Signal()  # () after any edit, for dirty marks and autosave

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles hold the data; the read-only views are made again on the other side."""
        return {k: v for k, v in self.__dict__.items() if k != "_views"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._views = MappingProxyType(self._nodes), MappingProxyType(self._groups)

    # -- queries -------------------------------------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, NodeRecord]:
        """The nodes by id, read-only: edits go through the methods below, which check and signal."""
        return self._views[0]

    @property
    def links(self) -> Mapping[tuple[str, str], Link]:
        """The links by (dst, dst_input), read-only (`core.link_table`)."""
        return self._links

    @property
    def groups(self) -> Mapping[str, Group]:
        return self._views[1]

    def node_class(self, node_id: str) -> type[Node] | None:
        return self.registry.get(self._nodes[node_id].type)

    def node(self, node_id: str) -> NodeRecord:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphEditError("no such node", node_id) from None

    def links_into(self, node_id: str) -> list[Link]:
        return self._links.into(node_id)

    def links_from(self, node_id: str) -> list[Link]:
        return self._links.out_of(node_id)

    def link_into(self, node_id: str, input_name: str) -> Link | None:
        return self._links.get((node_id, input_name))

    def iter_links(self) -> Iterator[Link]:
        return iter(self._links.values())

    def output_type(self, node_id: str, output_name: str,
                    known: dict[tuple[str, str], str | None] | None = None) -> str | None:
        """The type an output really carries: declared, or looked up through reroute nodes
        (`connections.carried_type`; `known` is a memo for callers asking about every output)."""
        return carried_type(self, node_id, output_name, known)

    def title(self, node_id: str) -> str:
        """The node's display title (see `node_title`)."""
        return node_title(self._nodes[node_id], self.node_class(node_id))

    def label(self, node_id: str) -> str:
        """How messages name a node: "node 5 (Load Checkpoint)"."""
        return f"node {node_id} ({self.title(node_id)})"

    def new_id(self) -> str:
        """The next small integer id, so saved files stay short and diffable."""
        return self.new_ids(1)[0]

    def new_ids(self, count: int) -> list[str]:
        """`count` fresh ids after every node and group id in use (a paste takes several at once)."""
        keys = [id_sort_key(i) for i in (*self._nodes, *self._groups)]
        start = max((number for kind, number, _ in keys if kind == 0), default=0) + 1
        return [str(start + n) for n in range(count)]

    def to_networkx(self) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph()
        g.add_nodes_from(self._nodes)
        for link in self._links.values():
            if link.src in self._nodes and link.dst in self._nodes:
                g.add_edge(link.src, link.dst, key=link.dst_input)
        return g

    # -- node edits ----------------------------------------------------------------------------

    def add_node(
        self,
        type_id: str,
        params: dict[str, Any] | None = None,
        ui: dict[str, Any] | None = None,
        node_id: str | None = None,
    ) -> NodeRecord:
        """Add a node of a registered type with default parameters (overridden by `params`)."""
        cls = self.registry.get(type_id)
        if cls is None:
            raise GraphEditError(f"unknown node type '{type_id}'", node_id)
        node_id = node_id or self.new_id()
        if node_id in self._nodes:
            raise GraphEditError("a node with this id already exists", node_id)
        values = cls.default_params()
        for name, value in (params or {}).items():
            values[name] = self._checked_value(cls, node_id, name, value)
        record = NodeRecord(node_id, cls.type_id, cls.version, values, dict(ui or {}))
        return self.insert_record(record)

    def insert_record(self, record: NodeRecord, links: list[Link] = ()) -> NodeRecord:
        """Put back a node exactly as recorded (undo of delete, paste, file load), with its links.

        Values are not re-checked: the record came from this model or from the workflow loader.
        """
        if record.id in self._nodes:
            raise GraphEditError("a node with this id already exists", record.id)
        self._nodes[record.id] = record
        self.node_added.emit(record)
        for link in links:
            self._put_link(link)
        self.changed.emit()
        return record

    def remove_node(self, node_id: str) -> tuple[NodeRecord, list[Link]]:
        """Delete a node and its links; return both so the deletion can be undone."""
        record = self.node(node_id)
        removed = self._links.touching(node_id)
        for link in removed:
            self._links.pop((link.dst, link.dst_input))
            self.link_removed.emit(link)
        del self._nodes[node_id]
        self.node_removed.emit(record)
        self.changed.emit()
        return record, removed

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Set a parameter after checking type and bounds; return the stored (converted) value."""
        record = self.node(node_id)
        value = self.check_value(node_id, name, value)
        if record.params.get(name, object()) == value and name in record.params:
            return value
        record.params[name] = value
        self.param_changed.emit(node_id, name, value)
        self.changed.emit()
        return value

    def param_value(self, node_id: str, name: str) -> Any:
        """The value a node runs with for parameter `name`: its own, else its input's default (a
        subgraph instance stores only what differs from its definition); None if it has neither."""
        record = self._nodes[node_id]
        if name in record.params:
            return record.params[name]
        cls = self.node_class(node_id)
        inp = cls.input(name) if cls is not None else None
        return None if inp is None or inp.default is REQUIRED else inp.default

    def check_value(self, node_id: str, name: str, value: Any) -> Any:
        """The value `set_param` would store, converted; GraphEditError if it would be refused."""
        record = self.node(node_id)
        cls = self.registry.get(record.type)
        if cls is None:
            raise GraphEditError(f"cannot edit a node of unknown type '{record.type}'", node_id, name)
        return self._checked_value(cls, node_id, name, value)

    def unset_param(self, node_id: str, name: str) -> None:
        """Forget a stored value, so the input is unset again (undo of the first edit of it)."""
        record = self.node(node_id)
        if name in record.params:
            del record.params[name]
            self.param_changed.emit(node_id, name, None)
            self.changed.emit()

    def set_ui(self, node_id: str, **values: Any) -> None:
        """Change layout fields (pos, size, title, color, collapsed...); None removes a field."""
        self.check_ui(node_id, **values)
        record = self._nodes[node_id]
        for key, value in values.items():
            if value is None:
                record.ui.pop(key, None)
            else:
                record.ui[key] = value
        self.node_changed.emit(node_id, "ui")
        self.changed.emit()

    def check_ui(self, node_id: str, **values: Any) -> None:
        """GraphEditError unless `set_ui` may store these values: the file's schema decides (a
        title is text, a position two finite numbers), so nothing else reaches the canvas."""
        record = self.node(node_id)
        ui = {k: v for k, v in (record.ui | values).items() if v is not None}
        problem = item_problem("nodes", {"id": "ui", "type": "ui", **ui}) or not_finite(values)
        if problem:
            raise GraphEditError(problem, node_id)

    def set_mode(self, node_id: str, mode: str) -> None:
        if mode not in NODE_MODES:
            raise GraphEditError(f"mode must be one of {', '.join(NODE_MODES)}", node_id)
        self.node(node_id).mode = NodeMode(mode).value  # stored as the plain string the file holds
        self.node_changed.emit(node_id, "mode")
        self.changed.emit()

    # -- link edits ----------------------------------------------------------------------------

    def check_connection(self, src: str, src_output: str, dst: str, dst_input: str,
                         reaches: Callable[[str, str], bool] | None = None) -> None:
        """Raise GraphEditError saying why this wire is refused (the rule: core/connections.py)."""
        check_connection(self, src, src_output, dst, dst_input, reaches)

    def connect(self, src: str, src_output: str, dst: str, dst_input: str) -> Link:
        """Wire an output to an input, replacing whatever link the input had."""
        self.check_connection(src, src_output, dst, dst_input)
        link = Link(src, src_output, dst, dst_input)
        self._put_link(link)
        self.changed.emit()
        return link

    def disconnect(self, dst: str, dst_input: str) -> Link | None:
        """Remove the link into an input; return it (None if the input was not linked)."""
        link = self._links.pop((dst, dst_input))
        if link is not None:
            self.link_removed.emit(link)
            self.changed.emit()
        return link

    def _put_link(self, link: Link) -> None:
        old = self._links.put(link)
        if old is not None:
            self.link_removed.emit(old)
        self.link_added.emit(link)

    # -- groups --------------------------------------------------------------------------------

    def add_group(self, title: str, rect: list[float], color: str | None = None,
                  group_id: str | None = None) -> Group:
        group = Group(group_id or self.new_id(), title, list(rect), color)
        return self.insert_group(group)

    def insert_group(self, group: Group) -> Group:
        if group.id in self._groups or group.id in self._nodes:
            raise GraphEditError(f"id {group.id} is already used")
        check_group(group)
        self._groups[group.id] = group
        self.group_changed.emit(group.id)
        self.changed.emit()
        return group

    def remove_group(self, group_id: str) -> Group:
        group = self._groups.pop(group_id)
        self.group_changed.emit(group_id)
        self.changed.emit()
        return group

    def set_group(self, group_id: str, **values: Any) -> None:
        """Change a group's title, rect or colour; GraphEditError (group unchanged) for a value the
        file could not hold, such as a title that is not text."""
        group = self._groups[group_id]
        check_group(replace(group, **values))
        for key, value in values.items():
            setattr(group, key, value)
        self.group_changed.emit(group_id)
        self.changed.emit()

    # -- whole graph ---------------------------------------------------------------------------

    def fill(self, nodes: dict[str, NodeRecord], links: Iterable[Link], groups: Iterable[Group] = ()) -> None:
        """Hold exactly these nodes, links and groups, quietly (no signals, no checks): how a file
        loader, a subgraph expansion or a subgraph view builds a whole level at once from records
        that were checked where they came from. Every later edit goes through the methods above."""
        self._nodes = dict(nodes)
        self._links = LinkTable(links)
        self._groups = {group.id: group for group in groups}
        self._views = MappingProxyType(self._nodes), MappingProxyType(self._groups)

    def clear(self) -> None:
        for node_id in list(self._nodes):
            self.remove_node(node_id)
        for group_id in list(self._groups):
            self.remove_group(group_id)
        self.subgraphs.clear()
        self.metadata.clear()
        self.manifest.clear()
        self.extra.clear()

    def snapshot(self, node_ids: list[str] | None = None) -> tuple[list[NodeRecord], list[Link]]:
        """Deep copies of some nodes (default: all) and the links among them (copy/paste, undo)."""
        ids = set(self._nodes if node_ids is None else node_ids)
        nodes = [copy.deepcopy(self._nodes[i]) for i in self._nodes if i in ids]
        links = [link for link in self._links.values() if link.src in ids and link.dst in ids]
        return nodes, links

    def _checked_value(self, cls: type[Node], node_id: str, name: str, value: Any) -> Any:
        inp = cls.input(name)
        if inp is None:
            raise GraphEditError("no such input", node_id, name)
        if not inp.is_parameter:
            raise GraphEditError(f"a {inp.type} input takes a link, not a value", node_id, name)
        try:
            return inp.check_value(value)
        except ValueError as exc:
            raise GraphEditError(str(exc), node_id, name) from None
