"""The node class a subgraph definition stands for, and a registry that knows these classes.

An instance is an ordinary node to everything that asks a graph's registry (the graph model's
connection rule, the editor's sockets and widgets, the palette, the workflow loader's migration):
its class is made here from the definition, with the definition's sockets as inputs and outputs,
its promoted widgets as parameters (bounds, choices and default from the inner input they set),
its version and its socket migrations. The class never runs: the engine expands instances first.

This module reads definitions by their fields only (see `definition.Definition`), so the graph
model can import it without importing the definitions that hold graph records.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from nodeflow.core.registry import Registry
from nodeflow.core.spec import REQUIRED, Input, Migration, Node, Output
from nodeflow.core.types import SCALAR_TYPES

#: The type id of an instance is this prefix and its definition's id, so definitions share the
#: node-type namespace without ever colliding with a registered type.
TYPE_PREFIX = "subgraph/"
#: How deep definitions may nest (a definition inside one inside one...): real files nest 2 or 3.
MAX_NESTING = 32
#: The boundary id of the links that bring an exposed input into a definition.
_IN = "@in"
#: Type ids of the two nodes that stand for a definition's boundary while it is edited
#: (`view.DefinitionView`): one shows its exposed inputs as outputs, the other its outputs as inputs.
BOUNDARY_IN_TYPE, BOUNDARY_OUT_TYPE = "subgraph-inputs/", "subgraph-outputs/"
#: What every type id this overlay makes starts with (instances and both boundaries).
_SUBGRAPH_TYPES = "subgraph"


def instance_type(definition_id: str) -> str:
    return TYPE_PREFIX + definition_id


def definition_id_of(type_id: str) -> str | None:
    """The definition an instance of `type_id` uses, or None for any other node type."""
    return type_id[len(TYPE_PREFIX):] if type_id.startswith(TYPE_PREFIX) else None


class SubgraphBoundary(Node):
    """Base of the classes of a definition's boundary nodes in its editing view; never run."""

    category: ClassVar[str] = "subgraphs"
    definition_id: ClassVar[str] = ""

    def run(self, ctx: Any, **inputs: Any) -> dict[str, Any]:
        raise RuntimeError("a subgraph's boundary exists only while its definition is edited")


class SubgraphInstance(Node):
    """Base of the classes made for definitions; `definition_id` names the definition."""

    category: ClassVar[str] = "subgraphs"
    definition_id: ClassVar[str] = ""

    def run(self, ctx: Any, **inputs: Any) -> dict[str, Any]:
        raise RuntimeError("a subgraph instance is expanded before a run; it never runs itself")

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        """None: a new instance stores only the values set on it, so the others follow the definition."""
        return {}


def is_instance_class(cls: type[Node] | None) -> bool:
    return cls is not None and issubclass(cls, SubgraphInstance)


class SubgraphRegistry(Registry):
    """A registry plus the instance classes of `definitions` (id -> definition), kept live: the
    class follows every edit of its definition. Registering goes to the base registry."""

    def __init__(self, base: Registry, definitions: Mapping[str, Any]):
        while isinstance(base, SubgraphRegistry):
            base = base.base
        self.base = base
        self.definitions = definitions
        self._types, self._aliases, self.problems = base._types, base._aliases, base.problems
        self._made: dict[str, tuple[str, type[Node]]] = {}
        self._building: set[str] = set()

    def get(self, type_id: str) -> type[Node] | None:
        if isinstance(type_id, str) and not type_id.startswith(_SUBGRAPH_TYPES):
            # the common case, asked several times for every node: a prefix test and a dict look-up
            return self._types.get(type_id) or self.base.get(type_id)
        definition_id = definition_id_of(type_id) if isinstance(type_id, str) else None
        if definition_id is None:
            return self._boundary(type_id) if isinstance(type_id, str) else self.base.get(type_id)
        definition = self.definitions.get(definition_id)
        if definition is None or definition_id in self._building or len(self._building) >= MAX_NESTING:
            return None  # inside itself, or nested deeper than any definition may be (expand refuses both)
        self._building.add(definition_id)
        try:
            stamp = _fingerprint(definition, self)
            made = self._made.get(definition_id)
            if made is None or made[0] != stamp:
                made = (stamp, _make_class(definition, self))
                self._made[definition_id] = made
            return made[1]
        finally:
            self._building.discard(definition_id)

    def _boundary(self, type_id: str) -> type[Node] | None:
        for prefix, is_in in ((BOUNDARY_IN_TYPE, True), (BOUNDARY_OUT_TYPE, False)):
            if type_id.startswith(prefix) and (definition := self.definitions.get(type_id[len(prefix):])):
                sockets = tuple((s.name, s.type) for s in (definition.inputs if is_in else definition.outputs))
                key = f"{type_id}|{sockets}"
                if key not in self._made:
                    attrs = {"type_id": type_id, "title": "Inputs" if is_in else "Outputs",
                             "definition_id": definition.id, "__module__": __name__,
                             "outputs": tuple(Output(n, t) for n, t in sockets) if is_in else (),
                             "inputs": () if is_in else tuple(Input(n, t, optional=True) for n, t in sockets)}
                    self._made[key] = (key, type(f"Boundary_{abs(hash(key))}", (SubgraphBoundary,), attrs))
                return self._made[key][1]
        return self.base.get(type_id)

    def instance_classes(self) -> list[type[Node]]:
        return [cls for d in sorted(self.definitions) if (cls := self.get(instance_type(d))) is not None]

    def __iter__(self) -> Iterator[type[Node]]:
        return iter([*self.base, *self.instance_classes()])

    def __len__(self) -> int:
        return len(self.base) + len(self.definitions)


def _inner_input(definition: Any, node_id: str, param: str, registry: Registry) -> tuple[Input | None, Any]:
    """The inner input a promoted widget or scalar socket sets, and the inner node's own value."""
    record = definition.nodes.get(node_id)
    cls = registry.get(record.type) if record is not None else None
    inp = cls.input(param) if cls is not None else None
    if inp is None:
        return None, REQUIRED
    return inp, record.params.get(param, inp.default)


def _parameter(name: str, inner: Input | None, value: Any, type_: str | None = None) -> Input:
    """An instance parameter shaped like the inner input it sets, defaulting to the inner value."""
    if inner is None:
        return Input(name, type_ or "*", optional=True)
    try:
        default = inner.check_value(value) if value is not REQUIRED else REQUIRED
    except ValueError:
        default = inner.default
    return dataclasses.replace(inner, name=name, default=default, optional=True,
                               output_prefix=False, type=type_ or inner.type)


def _make_class(definition: Any, registry: SubgraphRegistry) -> type[Node]:
    inputs: list[Input] = []
    for socket in definition.inputs:
        if socket.type in SCALAR_TYPES:
            first = next((link for link in definition.links.values()
                          if link.src == _IN and link.src_output == socket.name), None)
            inner, value = _inner_input(definition, first.dst, first.dst_input, registry) if first else (None, REQUIRED)
            if inner is not None and inner.type != socket.type:
                inner, value = None, REQUIRED
            inputs.append(_parameter(socket.name, inner, value, socket.type))
        else:
            inputs.append(Input(socket.name, socket.type, optional=True))
    for widget in definition.widgets:
        inputs.append(_parameter(widget.name, *_inner_input(definition, widget.node, widget.param, registry)))
    is_output = _contains_output(definition, registry)
    attrs = {
        "type_id": instance_type(definition.id),
        "title": definition.name or definition.id,
        "description": f"Subgraph '{definition.name}' (version {definition.version}): "
                       f"{len(definition.nodes)} nodes inside",
        "version": definition.version,
        "inputs": tuple(inputs),
        "outputs": tuple(Output(s.name, s.type) for s in definition.outputs),
        "migrations": {m.from_version: Migration(dict(m.rename_inputs), dict(m.rename_outputs))
                       for m in definition.migrations},
        "is_output": is_output,
        "definition_id": definition.id,
        "__module__": __name__,
    }
    return type(f"Subgraph_{abs(hash(definition.id))}", (SubgraphInstance,), attrs)


def _contains_output(definition: Any, registry: SubgraphRegistry) -> bool:
    """Whether running an instance saves or shows something: an output node inside, at any depth
    (walked without recursion and no deeper than MAX_NESTING, so a hostile chain of definitions
    can neither overflow the stack nor make every look-up walk all of it)."""
    todo, seen = [(definition, 0)], {definition.id}
    while todo:
        current, depth = todo.pop()
        if depth > MAX_NESTING:
            continue
        for record in current.nodes.values():
            if record.mode == "muted":
                continue
            nested = definition_id_of(record.type)
            if nested is None:
                cls = registry.base.get(record.type)
                if cls is not None and cls.is_output:
                    return True
            elif nested not in seen and nested in registry.definitions:
                seen.add(nested)
                todo.append((registry.definitions[nested], depth + 1))
    return False


def _fingerprint(definition: Any, registry: Registry) -> str:
    """What the made class depends on: remade whenever any of it changes."""
    used = [(w.node, w.param) for w in definition.widgets]
    used += [(link.dst, link.dst_input) for link in definition.links.values() if link.src == _IN]
    values = [[n, p, getattr(definition.nodes.get(n), "type", None),
               getattr(definition.nodes.get(n), "params", {}).get(p)] for n, p in used]
    modes = sorted((r.type, r.mode) for r in definition.nodes.values())
    return json.dumps([definition.name, definition.version, [(s.name, s.type) for s in definition.inputs],
                       [(s.name, s.type) for s in definition.outputs], [(w.name, w.node, w.param) for w in
                       definition.widgets], values, modes,
                       [(m.from_version, m.rename_inputs, m.rename_outputs) for m in definition.migrations]],
                      default=repr, sort_keys=True)
