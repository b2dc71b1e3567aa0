"""What checking a node needs to know about its type, worked out once per type for each check.

A large graph has many nodes but few types (the 200,000-node workflow of `bench/validate_scale.py`
has five). The class a type id names in the registry, its sockets by name, which of its inputs
take stored values and which optional declarations it makes (`Node.device_problems`,
`Node.memory_needs`, output prefixes) are the same for every node of a type, so validation looks
them up once per type here instead of once per node: that keeps checking linear with a small
constant. A table is made afresh from the graph's own registry for each validation and kept by
nobody, so it cannot go stale when the graph is edited or a plugin is installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nodeflow.core.graph import Graph
from nodeflow.core.spec import Input, Node, Output


@dataclass(frozen=True)
class TypeFacts:
    """One node type as validation reads it."""

    cls: type[Node]
    #: Inputs and outputs by name, as `Node.input` and `Node.output` answer.
    inputs: Mapping[str, Input]
    outputs: Mapping[str, Output]
    #: Names of the inputs that take a stored value (`Input.is_parameter`).
    parameters: frozenset[str]
    #: Inputs naming files the node writes in the output folder (`Input.output_prefix`).
    prefixes: tuple[Input, ...]
    #: Whether the type says what a device cannot run (`Node.device_problems`) ...
    checks_device: bool
    #: ... and what memory it needs (`Node.memory_needs`); most types declare neither.
    declares_memory: bool


def overrides(cls: type[Node], method: str) -> bool:
    """Whether `cls` declares its own `method` (a classmethod of `Node`) rather than the default,
    which answers nothing: nodes of such types need not be asked."""
    return getattr(cls, method).__func__ is not getattr(Node, method).__func__


def facts_of(cls: type[Node]) -> TypeFacts:
    """The facts of one node class."""
    return TypeFacts(
        cls=cls,
        inputs={inp.name: cls.input(inp.name) for inp in cls.inputs},
        outputs={out.name: cls.output(out.name) for out in cls.outputs},
        parameters=frozenset(inp.name for inp in cls.inputs if inp.is_parameter),
        prefixes=tuple(inp for inp in cls.inputs if inp.output_prefix),
        checks_device=overrides(cls, "device_problems"),
        declares_memory=overrides(cls, "memory_needs"),
    )


def node_classes(graph: Graph) -> dict[str, type[Node] | None]:
    """Each type id the graph's nodes use -> its class, or None for a type no installed node
    provides (validation reports those on the node)."""
    registry = graph.registry
    return {type_id: registry.get(type_id) for type_id in {record.type for record in graph.nodes.values()}}


def type_table(graph: Graph) -> dict[str, TypeFacts | None]:
    """Each type id the graph's nodes use -> its facts (None as in `node_classes`)."""
    return {type_id: facts_of(cls) if cls is not None else None for type_id, cls in node_classes(graph).items()}
