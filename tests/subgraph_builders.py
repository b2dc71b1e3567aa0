"""Subgraph definitions built from the torch-free test nodes (spine_nodes), for core and engine tests."""

from __future__ import annotations

from nodeflow.core import Graph
from nodeflow.core.graph import Link, NodeRecord
from nodeflow.core.subgraphs.definition import BOUNDARY_IN, BOUNDARY_OUT, Definition, Promoted, Socket, instance_type


def add_definition(graph: Graph, definition_id: str = "add-ten", offset: int = 10) -> Definition:
    """x -> Add(b=offset, promoted as 'offset') -> y."""
    definition = Definition(definition_id, "Add Ten", 1, [Socket("x", "INT")], [Socket("y", "INT")],
                            [Promoted("offset", "1", "b")])
    definition.nodes["1"] = NodeRecord("1", "test.add", 1, {"b": offset}, {"pos": [0, 0]})
    definition.links[("1", "a")] = Link(BOUNDARY_IN, "x", "1", "a")
    definition.links[(BOUNDARY_OUT, "y")] = Link("1", "sum", BOUNDARY_OUT, "y")
    graph.subgraphs[definition_id] = definition
    return definition


def instance(graph: Graph, definition_id: str, node_id: str | None = None, **params) -> str:
    version = graph.subgraphs[definition_id].version if definition_id in graph.subgraphs else 1
    record = NodeRecord(node_id or graph.new_id(), instance_type(definition_id), version, dict(params))
    return graph.insert_record(record).id


def two_instances(graph: Graph) -> dict[str, str]:
    """source(2) -> A -> sink, source(2) -> B -> sink2: two instances of 'add-ten' on one source."""
    add_definition(graph)
    source = graph.add_node("test.source", {"value": 2}).id
    a, b = instance(graph, "add-ten"), instance(graph, "add-ten")
    sink_a, sink_b = graph.add_node("test.sink").id, graph.add_node("test.sink").id
    graph.connect(source, "value", a, "x")
    graph.connect(source, "value", b, "x")
    graph.connect(a, "y", sink_a, "value")
    graph.connect(b, "y", sink_b, "value")
    return {"source": source, "a": a, "b": b, "sink_a": sink_a, "sink_b": sink_b}
