"""Running subgraphs: expanded at plan time, identical instances served once, messages name instance:inner."""

from __future__ import annotations

from pathlib import Path

import pytest
from spine_nodes import CALLS, make_registry
from subgraph_builders import add_definition, instance, two_instances

from nodeflow.core import CancelToken, Graph, ValidationError
from nodeflow.core.graph import Link, NodeRecord
from nodeflow.engine import Executor
from nodeflow.engine import events as ev
from nodeflow.engine.executor import _Run


@pytest.fixture
def registry():
    return make_registry()


@pytest.fixture
def graph(registry):
    CALLS.clear()
    return Graph(registry)


@pytest.fixture
def executor(registry):
    return Executor(registry, device="cpu")


def finished(executor: Executor) -> dict[str, ev.NodeFinished]:
    seen: dict[str, ev.NodeFinished] = {}
    executor.subscribe(lambda e: seen.__setitem__(e.node_id, e) if isinstance(e, ev.NodeFinished) else None)
    return seen


def test_identical_instances_run_once_and_both_outputs_get_the_value(graph, executor):
    n = two_instances(graph)
    result = executor.run(graph)
    a_inner, b_inner = f"{n['a']}:1", f"{n['b']}:1"
    assert result.ok and result.values[a_inner] == result.values[b_inner] == {"sum": 12}
    assert CALLS.count(a_inner) + CALLS.count(b_inner) == 1
    assert sorted([a_inner, b_inner]) == sorted([*set(result.executed) & {a_inner, b_inner},
                                                 *set(result.cached) & {a_inner, b_inner}])


def test_a_changed_instance_value_reruns_only_that_instance_and_says_why(graph, executor):
    n = two_instances(graph)
    executor.run(graph)
    CALLS.clear()
    seen = finished(executor)
    graph.set_param(n["b"], "offset", 1)
    result = executor.run(graph)
    assert CALLS == [f"{n['b']}:1", n["sink_b"]]
    assert seen[f"{n['b']}:1"].reason == "parameter 'b' changed"
    assert result.values[f"{n['b']}:1"] == {"sum": 3} and seen[f"{n['a']}:1"].cached


def test_editing_the_definition_reruns_every_instance(graph, executor):
    n = two_instances(graph)
    executor.run(graph)
    graph.subgraphs["add-ten"].nodes["1"].params["b"] = 20
    result = executor.run(graph)
    assert result.values[f"{n['a']}:1"] == result.values[f"{n['b']}:1"] == {"sum": 22}


def test_a_failure_inside_names_the_instance_and_the_inner_node(graph, executor):
    add_definition(graph)
    graph.subgraphs["add-ten"].nodes["2"] = NodeRecord("2", "test.fail", 1, {})
    graph.subgraphs["add-ten"].links[("2", "a")] = Link("1", "sum", "2", "a")
    graph.subgraphs["add-ten"].links[("@out", "y")] = Link("2", "value", "@out", "y")
    source = graph.add_node("test.source").id
    a = instance(graph, "add-ten")
    sink = graph.add_node("test.sink").id
    graph.connect(source, "value", a, "x")
    graph.connect(a, "y", sink, "value")
    started: list[list[str]] = []
    executor.subscribe(lambda e: started.append(e.order) if isinstance(e, ev.RunStarted) else None)
    result = executor.run(graph)
    assert result.errors == {f"{a}:2": f"node {a}:2 (Fail) in subgraph 'Add Ten' (node {a}) (input 'a'): "
                                       "broke on purpose"}
    assert started == [[source, f"{a}:1", f"{a}:2", sink]]


def test_problems_inside_an_instance_are_found_before_running(graph, executor):
    add_definition(graph)
    a = instance(graph, "add-ten")
    sink = graph.add_node("test.sink").id
    graph.connect(a, "y", sink, "value")
    with pytest.raises(ValidationError) as caught:
        executor.run(graph)
    assert [str(p) for p in caught.value.problems] == [f"node {a}:1 input 'a': has no value and is not linked"]
    assert CALLS == []


def test_outputs_embed_the_workflow_as_made_with_its_definitions(graph, executor):
    two_instances(graph)
    run = executor.run(graph)
    assert run.ok
    embedded = _Run(executor, graph, CancelToken(), Path("output"), None, None)._workflow_json()
    assert '"subgraphs"' in embedded and '"subgraph/add-ten"' in embedded
