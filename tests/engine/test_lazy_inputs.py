"""Lazy inputs: a switch runs only the branch it takes, and plan, validation, cache and events know it."""

from __future__ import annotations

import pytest
from spine_nodes import CALLS, make_registry

from nodeflow.core import Graph, Input, Node, Output, ValidationError
from nodeflow.core.types import BOOLEAN, INT
from nodeflow.engine import Executor
from nodeflow.engine import events as ev
from nodeflow.engine.plan import make_plan


class Flag(Node):
    """A BOOLEAN only the run knows (not pure): the switch it drives decides when it runs."""

    type_id = "test.flag"
    title = "Flag"
    inputs = (Input("value", INT, default=0),)
    outputs = (Output("flag", BOOLEAN),)

    def run(self, ctx, value):
        CALLS.append(ctx.node_id)
        return (value != 0,)


@pytest.fixture
def registry():
    registry = make_registry()
    registry.register(Flag)
    return registry


@pytest.fixture
def graph(registry):
    CALLS.clear()
    return Graph(registry)


@pytest.fixture
def executor(registry):
    return Executor(registry, device="cpu")


def two_branches(graph: Graph, switch: bool = False, flag: int | None = None, on: str = "test.fail"
                 ) -> dict[str, str]:
    """shared -> off (adds 1) and shared -> on (a failing node, or `on`) -> switch -> sink. With `flag`, a Flag node
    (known only at run time) drives the switch; else its own parameter does."""
    n = {"shared": graph.add_node("test.source", {"value": 5}).id,
         "off": graph.add_node("test.add", {"b": 1}).id,
         "on": graph.add_node(on).id,
         "switch": graph.add_node("basic.switch", {"switch": switch}).id,
         "sink": graph.add_node("test.sink").id}
    graph.connect(n["shared"], "value", n["off"], "a")
    graph.connect(n["shared"], "value", n["on"], "a")
    graph.connect(n["off"], "sum", n["switch"], "on_false")
    graph.connect(n["on"], graph.node_class(n["on"]).outputs[0].name, n["switch"], "on_true")
    graph.connect(n["switch"], "output", n["sink"], "value")
    if flag is not None:
        n["flag"] = graph.add_node("test.flag", {"value": flag}).id
        graph.connect(n["flag"], "flag", n["switch"], "switch")
    return n


def test_a_branch_decided_before_the_run_is_the_only_one_planned_and_run(graph, executor):
    n = two_branches(graph, switch=False)
    plan = make_plan(graph)
    assert n["on"] not in plan.order and n["off"] in plan.order
    assert plan.chosen == {n["switch"]: ("on_false",)} and not plan.conditional
    result = executor.run(graph)
    assert result.ok, result.errors
    assert n["on"] not in CALLS and result.values[n["switch"]]["output"] == 6


def test_a_pure_node_upstream_decides_the_branch_in_the_plan(graph, executor):
    n = two_branches(graph, switch=True)
    boolean = graph.add_node("basic.boolean", {"value": False}).id
    graph.connect(boolean, "value", n["switch"], "switch")
    assert make_plan(graph).chosen == {n["switch"]: ("on_false",)}
    assert executor.run(graph).ok and n["on"] not in CALLS


def test_a_branch_known_only_at_run_time_is_planned_conditionally_and_the_other_never_runs(graph, executor):
    n = two_branches(graph, flag=0)
    plan = make_plan(graph)
    assert {n["on"], n["off"]} <= plan.conditional and n["switch"] not in plan.chosen
    events = []
    executor.subscribe(events.append)
    result = executor.run(graph)
    assert result.ok, result.errors  # the failing node sits on the branch not taken
    assert n["on"] not in CALLS and CALLS.index(n["flag"]) < CALLS.index(n["off"]) < CALLS.index(n["sink"])
    skipped = {e.node_id: e.reason for e in events if isinstance(e, ev.NodeSkipped)}
    assert skipped == {n["on"]: "on a branch no switch took"}
    assert result.values[n["switch"]]["output"] == 6


def test_the_branch_taken_failing_skips_the_switch_and_what_follows(graph, executor):
    n = two_branches(graph, flag=1)
    result = executor.run(graph)
    assert not result.ok and set(result.errors) == {n["on"]}
    assert {n["switch"], n["sink"]} <= set(result.skipped) and n["off"] not in CALLS


def test_switching_reruns_only_the_new_branch_the_switch_and_what_follows(graph, executor):
    n = two_branches(graph, switch=False, on="test.add")
    executor.run(graph)
    CALLS.clear()
    graph.set_param(n["switch"], "switch", True)
    events = []
    executor.subscribe(events.append)
    result = executor.run(graph)
    assert result.ok and CALLS == [n["on"], n["sink"]]  # the switch itself runs no test code
    assert set(result.executed) == {n["on"], n["switch"], n["sink"]} and n["shared"] in result.cached
    reason = next(e.reason for e in events if isinstance(e, ev.NodeFinished) and e.node_id == n["switch"])
    assert "parameter 'switch'" in reason
    CALLS.clear()
    graph.set_param(n["switch"], "switch", False)
    result = executor.run(graph)  # back: the first branch's result is still cached
    assert result.ok and CALLS == [n["sink"]] and n["off"] in result.cached


def test_an_unlinked_branch_not_taken_is_no_problem_but_a_taken_one_is(graph, executor):
    source = graph.add_node("test.source").id
    switch = graph.add_node("basic.switch", {"switch": False}).id
    sink = graph.add_node("test.sink").id
    graph.connect(source, "value", switch, "on_false")
    graph.connect(switch, "output", sink, "value")
    assert executor.run(graph).ok
    graph.set_param(switch, "switch", True)
    with pytest.raises(ValidationError) as info:
        executor.run(graph)
    assert [(p.node_id, p.field) for p in info.value.problems] == [(switch, "on_true")]


def test_an_open_switch_choosing_an_unlinked_branch_fails_naming_it(graph, executor):
    source = graph.add_node("test.source").id
    flag = graph.add_node("test.flag", {"value": 1}).id
    switch = graph.add_node("basic.switch").id
    sink = graph.add_node("test.sink").id
    graph.connect(source, "value", switch, "on_false")
    graph.connect(flag, "flag", switch, "switch")
    graph.connect(switch, "output", sink, "value")
    result = executor.run(graph)
    assert not result.ok and "nothing is linked to 'on_true'" in result.errors[switch]
    assert source not in CALLS


def test_nested_open_switches_run_only_the_path_taken(graph, executor):
    inner = two_branches(graph, flag=0)  # inner switch takes 'off'
    outer_flag = graph.add_node("test.flag", {"value": 1}).id
    other = graph.add_node("test.fail").id
    graph.connect(inner["shared"], "value", other, "a")
    outer = graph.add_node("basic.switch").id
    graph.connect(other, "value", outer, "on_false")
    graph.connect(inner["switch"], "output", outer, "on_true")
    graph.connect(outer_flag, "flag", outer, "switch")
    graph.connect(outer, "output", inner["sink"], "value")
    result = executor.run(graph)
    assert result.ok, result.errors
    assert other not in CALLS and inner["on"] not in CALLS and inner["off"] in CALLS
    assert result.values[outer]["output"] == 6


def test_the_memory_plan_holds_only_the_branch_taken(graph, executor):
    n = two_branches(graph, switch=True, on="test.add")
    planned = {node.node_id for node in executor.memory_plan(graph).nodes}
    assert n["on"] in planned and n["off"] not in planned
