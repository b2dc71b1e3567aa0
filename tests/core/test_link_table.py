"""The graph's link index answers what feeds and what is fed by a node without a scan, stays in
step through every edit, and nobody outside the graph can change nodes, links or groups."""

from __future__ import annotations

import pytest

from nodeflow.core import Graph
from nodeflow.core.graph import Link
from nodeflow.core.registry import Registry
from nodes.basic import scalars


@pytest.fixture
def graph() -> Graph:
    registry = Registry()
    registry.register_module(scalars, "basic")
    return Graph(registry)


def _scan(graph: Graph, node_id: str) -> tuple[set[Link], set[Link]]:
    links = list(graph.links.values())
    return {k for k in links if k.dst == node_id}, {k for k in links if k.src == node_id}


def test_the_index_agrees_with_a_scan_through_connects_replacements_and_removals(graph):
    a, b, c = (graph.add_node("basic.int").id for _ in range(3))
    r = graph.add_node("basic.round").id
    graph.connect(a, "value", r, "value")
    graph.connect(b, "value", r, "value")  # replaces a's link into the same input
    show = [graph.add_node("basic.show").id for _ in range(3)]
    for s in show:
        graph.connect(r, "value", s, "value")
    graph.disconnect(show[1], "value")
    graph.remove_node(show[2])
    for node_id in (a, b, c, r, *show[:2]):
        into, out = _scan(graph, node_id)
        assert set(graph.links_into(node_id)) == into and set(graph.links_from(node_id)) == out, node_id
    assert graph.links_into(r) == [Link(b, "value", r, "value")] and graph.links_from(a) == []
    record, removed = graph.remove_node(r)
    assert set(removed) == {Link(b, "value", r, "value"), Link(r, "value", show[0], "value")}
    graph.insert_record(record, removed)  # undo of the delete: the index comes back with the links
    assert graph.links_from(r) == [Link(r, "value", show[0], "value")] and graph.links_into(r) == removed[:1]


def test_nodes_links_and_groups_are_read_only_views(graph):
    n = graph.add_node("basic.int").id
    graph.add_group("G", [0, 0, 100, 100])
    with pytest.raises(TypeError):
        graph.nodes["9"] = graph.nodes[n]  # type: ignore[index]
    with pytest.raises(AttributeError):
        graph.groups.clear()  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        graph.links[(n, "x")] = Link(n, "value", n, "x")  # type: ignore[index]
    with pytest.raises(AttributeError):
        graph.nodes = {}  # type: ignore[misc]


def test_fill_builds_a_whole_level_with_its_index(graph):
    ids = [graph.add_node("basic.int").id, graph.add_node("basic.show").id]
    other = Graph(graph.registry)
    other.fill(dict(graph.nodes), [Link(ids[0], "value", ids[1], "value")])
    assert other.links_from(ids[0]) == other.links_into(ids[1]) == [Link(ids[0], "value", ids[1], "value")]
    assert other.links == {(ids[1], "value"): Link(ids[0], "value", ids[1], "value")}


def test_a_copied_or_pickled_graph_keeps_its_links_index_and_views(graph):
    import copy
    import pickle

    a, s = graph.add_node("basic.int").id, graph.add_node("basic.show").id
    graph.connect(a, "value", s, "value")
    for other in (copy.deepcopy(graph), pickle.loads(pickle.dumps(graph))):
        assert other.links_from(a) == [Link(a, "value", s, "value")] and set(other.nodes) == {a, s}
        other.remove_node(s)
        assert set(other.nodes) == {a} and other.links_from(a) == [] and set(graph.nodes) == {a, s}
