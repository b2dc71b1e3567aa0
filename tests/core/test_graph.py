"""The graph model refuses bad edits with messages naming node and input, and announces good ones."""

import pytest
from spine_nodes import make_registry

from nodeflow.core import Graph, GraphEditError


@pytest.fixture
def graph():
    return Graph(make_registry())


def test_connect_checks_types_and_names(graph):
    text = graph.add_node("basic.text").id
    add = graph.add_node("test.add").id
    with pytest.raises(GraphEditError) as info:
        graph.connect(text, "text", add, "a")
    assert info.value.problem.node_id == add and info.value.problem.field == "a"
    assert "expects INT" in str(info.value) and graph.links == {}
    with pytest.raises(GraphEditError, match="no such input"):
        graph.connect(add, "sum", add, "nope")
    with pytest.raises(GraphEditError, match="no output 'nope'"):
        graph.connect(add, "nope", add, "a")


def test_connect_refuses_cycles_and_replaces_existing_link(graph):
    a = graph.add_node("test.add").id
    b = graph.add_node("test.add").id
    c = graph.add_node("test.source").id
    graph.connect(a, "sum", b, "a")
    with pytest.raises(GraphEditError, match="cycle"):
        graph.connect(b, "sum", a, "a")
    removed, added = [], []
    graph.link_removed.connect(removed.append)
    graph.link_added.connect(added.append)
    graph.connect(c, "value", b, "a")
    assert [link.src for link in removed] == [a] and [link.src for link in added] == [c]
    assert graph.link_into(b, "a").src == c and len(graph.links) == 1


def test_set_param_checks_type_and_bounds(graph):
    scale = graph.add_node("test.scale").id
    assert graph.set_param(scale, "factor", "3.5") == 3.5
    with pytest.raises(GraphEditError, match="above the maximum") as info:
        graph.set_param(scale, "factor", 11)
    assert info.value.problem.field == "factor" and graph.nodes[scale].params["factor"] == 3.5
    sink = graph.add_node("test.sink").id
    with pytest.raises(GraphEditError, match="takes a link"):
        graph.set_param(sink, "value", 1.0)
    math_node = graph.add_node("basic.math").id
    with pytest.raises(GraphEditError, match="not one of"):
        graph.set_param(math_node, "operation", "sqrt")


def test_remove_and_reinsert_restores_node_and_links(graph):
    a = graph.add_node("test.source").id
    b = graph.add_node("test.add").id
    graph.connect(a, "value", b, "a")
    record, links = graph.remove_node(a)
    assert graph.links == {} and a not in graph.nodes
    graph.insert_record(record, links)
    assert graph.link_into(b, "a").src == a


def test_unknown_type_cannot_be_added(graph):
    with pytest.raises(GraphEditError, match="unknown node type 'x.y'"):
        graph.add_node("x.y")


def test_new_ids_are_small_integers(graph):
    ids = [graph.add_node("test.source").id for _ in range(3)]
    assert ids == ["1", "2", "3"]
    graph.remove_node("2")
    assert graph.add_node("test.source").id == "4"


def test_unset_param_forgets_the_value_and_announces_it(graph):
    add = graph.add_node("test.add").id
    graph.set_param(add, "a", 3)
    seen = []
    graph.param_changed.connect(lambda *args: seen.append(args))
    graph.unset_param(add, "a")
    assert "a" not in graph.nodes[add].params and seen == [(add, "a", None)]


def test_a_parameter_left_to_its_default_reads_as_the_default():
    """A subgraph instance stores only what differs from its definition: what it runs with (and
    what the editor shows) is the definition's value."""
    from pathlib import Path

    from nodeflow.core import default_registry, files

    graph = files.load(Path(__file__).resolve().parents[2] / "workflows" / "subgraphs.json", default_registry())[0]
    instance = next(n for n, r in graph.nodes.items() if r.type.startswith("subgraph/") and "text" not in r.params)
    assert graph.param_value(instance, "text") == "a red circle on a blue background"
    assert graph.param_value(instance, "cfg") == 5.0
    assert graph.param_value(instance, "no such parameter") is None


def test_sorted_ids_is_id_sort_key_order():
    from nodeflow.core.ids import id_sort_key, sorted_ids

    ids = ["10", "2", "b", "a", "02", "²", "1", "100", "x10", "2"]
    assert sorted_ids(ids) == sorted(ids, key=id_sort_key)
