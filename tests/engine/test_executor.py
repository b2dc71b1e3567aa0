"""Executor behaviour: order, cache, re-run reasons, failures, cancel, bypass and mute."""

from __future__ import annotations

import threading

import pytest
from spine_nodes import CALLS, Slow, chain, make_registry

from nodeflow.core import CancelToken, Graph, ValidationError
from nodeflow.engine import Executor
from nodeflow.engine import events as ev


@pytest.fixture
def registry():
    return make_registry()


@pytest.fixture
def graph(registry):
    CALLS.clear()
    return Graph(registry)


@pytest.fixture
def executor(registry, tmp_path):
    return Executor(registry, device="cpu")


def diamond(graph: Graph) -> dict[str, str]:
    """source -> (left, right) -> join -> sink, plus an independent branch b1 -> b2 -> sink2."""
    s = graph.add_node("test.source", {"value": 2}).id
    left = graph.add_node("test.add", {"b": 10}).id
    right = graph.add_node("test.add", {"b": 100}).id
    join = graph.add_node("test.add").id
    sink = graph.add_node("test.sink").id
    graph.connect(s, "value", left, "a")
    graph.connect(s, "value", right, "a")
    graph.connect(left, "sum", join, "a")
    graph.connect(right, "sum", join, "b")
    graph.connect(join, "sum", sink, "value")
    b1, b2, sink2 = chain(graph, ("test.source", {"value": 5}), ("test.add", {"b": 1}), ("test.sink", {}))
    return dict(s=s, left=left, right=right, join=join, sink=sink, b1=b1, b2=b2, sink2=sink2)


def test_branching_graph_runs_in_dependency_order(graph, executor):
    n = diamond(graph)
    result = executor.run(graph)
    assert result.ok
    order = CALLS
    assert sorted(order) == sorted(n.values())
    for before, after in [("s", "left"), ("s", "right"), ("left", "join"), ("right", "join"),
                          ("join", "sink"), ("b1", "b2"), ("b2", "sink2")]:
        assert order.index(n[before]) < order.index(n[after])
    assert result.values[n["join"]]["sum"] == (2 + 10) + (2 + 100)


def test_only_nodes_needed_by_outputs_run(graph, executor):
    used = chain(graph, ("test.source", {}), ("test.sink", {}))
    dangling = graph.add_node("test.add").id  # unlinked, required input missing, but not needed
    result = executor.run(graph)
    assert result.ok and dangling not in CALLS and CALLS == used


def test_unchanged_rerun_executes_nothing(graph, executor):
    diamond(graph)
    executor.run(graph)
    CALLS.clear()
    events = []
    executor.subscribe(events.append)
    result = executor.run(graph)
    assert CALLS == [] and result.executed == []
    finished = [e for e in events if isinstance(e, ev.NodeFinished)]
    assert len(finished) == 8 and all(e.cached for e in finished)


def test_changing_a_parameter_reruns_exactly_the_node_and_its_dependants(graph, executor):
    n = diamond(graph)
    executor.run(graph)
    CALLS.clear()
    events = []
    executor.subscribe(events.append)
    graph.set_param(n["left"], "b", 11)
    result = executor.run(graph)
    assert sorted(CALLS) == sorted([n["left"], n["join"], n["sink"]])
    assert result.values[n["join"]]["sum"] == 13 + 102
    reasons = {e.node_id: e.reason for e in events if isinstance(e, ev.NodeFinished) and not e.cached}
    assert reasons == {n["left"]: "parameter 'b' changed", n["join"]: "input 'a' changed",
                       n["sink"]: "input 'value' changed"}


def test_uncacheable_node_runs_every_time(graph, executor):
    u, sink = chain(graph, ("test.unseeded", {}), ("test.sink", {}))
    executor.run(graph)
    executor.run(graph)
    assert CALLS.count(u) == 2 and CALLS.count(sink) == 2


def test_failing_node_skips_dependants_but_not_independent_branch(graph, executor):
    n = diamond(graph)
    fail = graph.add_node("test.fail").id
    graph.connect(n["right"], "sum", fail, "a")
    graph.connect(fail, "value", n["join"], "b")
    events = []
    executor.subscribe(events.append)
    result = executor.run(graph)
    assert not result.ok
    assert "broke on purpose" in result.errors[fail] and f"node {fail}" in result.errors[fail]
    assert n["join"] not in CALLS and n["sink"] not in CALLS
    assert n["sink2"] in CALLS and result.values[n["b2"]]["sum"] == 6
    skipped = {e.node_id for e in events if isinstance(e, ev.NodeSkipped)}
    assert skipped == {n["join"], n["sink"]}


def test_validation_reports_every_problem_in_one_pass(graph, executor):
    src, add, sink = chain(graph, ("test.source", {}), ("test.add", {}), ("test.sink", {}))
    lonely = graph.add_node("test.add").id  # required INT 'a' unlinked
    graph.connect(lonely, "sum", graph.add_node("test.sink").id, "value")
    scale = graph.add_node("test.scale").id
    graph.connect(scale, "x", graph.add_node("test.sink").id, "value")
    graph.nodes[scale].params["factor"] = 99.0  # out of bounds, as a hand-edited file could say
    with pytest.raises(ValidationError) as info:
        executor.run(graph)
    found = {(p.node_id, p.field) for p in info.value.problems}
    assert (lonely, "a") in found and (scale, "x") in found and (scale, "factor") in found
    assert CALLS == []


def test_cycles_and_type_mismatch_in_a_loaded_file_are_reported(registry, executor):
    from nodeflow.core.workflow import loads

    text = """{"format": "nodeflow-workflow", "version": 1,
      "nodes": [{"id": "1", "type": "test.add"}, {"id": "2", "type": "test.add"},
                {"id": "3", "type": "test.sink"}, {"id": "4", "type": "basic.text"},
                {"id": "5", "type": "test.add"}, {"id": "6", "type": "test.sink"},
                {"id": "7", "type": "acme.unknown"}],
      "links": [{"from": ["1", "sum"], "to": ["2", "a"]}, {"from": ["2", "sum"], "to": ["1", "a"]},
                {"from": ["2", "sum"], "to": ["3", "value"]}, {"from": ["4", "text"], "to": ["5", "a"]},
                {"from": ["5", "sum"], "to": ["6", "value"]}]}"""
    graph, report = loads(text, registry)
    assert "acme.unknown" in report.unknown_types[0]
    problems = executor.validate(graph)
    by_node = {(p.node_id, p.field): str(p) for p in problems}
    assert "cycle" in by_node[("1", None)] and "cycle" in by_node[("2", None)]
    assert "expects INT" in by_node[("5", "a")] and "STRING" in by_node[("5", "a")]
    assert "unknown node type 'acme.unknown'" in by_node[("7", None)]


def test_cancel_stops_a_long_node(graph, executor):
    src, slow, sink = chain(graph, ("test.source", {}), ("test.slow", {"steps": 1000}), ("test.sink", {}))
    cancel = CancelToken()
    Slow.started.clear()
    threading.Thread(target=lambda: (Slow.started.wait(5), cancel.cancel()), daemon=True).start()
    events = []
    executor.subscribe(events.append)
    result = executor.run(graph, cancel=cancel)
    assert result.cancelled and not result.ok
    steps = [e.step for e in events if isinstance(e, ev.NodeProgress)]
    assert 0 < len(steps) < 1000  # stopped well before the end
    assert sink not in CALLS and events[-1] == ev.RunFinished(False, True, events[-1].seconds)
    assert sorted(result.skipped) == sorted({slow, sink})  # each skipped node listed once


def test_bypass_passes_matching_input_through_and_mute_skips(graph, executor):
    src, add, sink = chain(graph, ("test.source", {"value": 7}), ("test.add", {"b": 5}), ("test.sink", {}))
    graph.set_mode(add, "bypass")
    result = executor.run(graph)
    assert result.values[add]["sum"] == 7 and add not in CALLS
    graph.set_mode(add, "muted")
    result = executor.run(graph)
    assert add in result.skipped and sink in result.skipped and result.ok


def test_a_bypassed_output_node_and_what_only_it_needs_do_not_run(graph, executor):
    kept = chain(graph, ("test.source", {"value": 1}), ("test.sink", {}))
    src, add, sink = chain(graph, ("test.source", {"value": 7}), ("test.add", {"b": 5}), ("test.sink", {}))
    graph.set_mode(sink, "bypass")
    result = executor.run(graph)
    assert result.ok and kept[1] in CALLS
    assert not {src, add, sink} & set(CALLS)


def test_a_bypassed_node_with_nothing_to_pass_leaves_a_required_input_unfed(graph, executor):
    """A bypassed node without an input of its output's type passes nothing (ComfyUI's frontend drops
    the link): a required input it fed is refused in one line naming it."""
    unseeded, add, sink = chain(graph, ("test.unseeded", {}), ("test.add", {"b": 1}), ("test.sink", {}))
    graph.set_mode(unseeded, "bypass")
    result = executor.run(graph)
    assert not result.ok and "input 'a'" in result.errors[add] and "bypassed" in result.errors[add]


def test_int_output_feeds_float_input_as_float(graph, executor):
    src, scale, sink = chain(graph, ("test.source", {"value": 3}), ("test.scale", {"factor": 1.5}),
                             ("test.sink", {}))
    result = executor.run(graph)
    assert result.values[scale]["x"] == 4.5


def test_no_output_node_is_a_problem(graph, executor):
    graph.add_node("test.source")
    problems = executor.validate(graph)
    assert len(problems) == 1 and "no output node" in problems[0].message


def test_reroutes_pass_values_and_types_through(graph, executor):
    from nodeflow.core import GraphEditError, Link

    src = graph.add_node("test.source", {"value": 4}).id
    r1 = graph.add_node("basic.reroute").id
    r2 = graph.add_node("basic.reroute").id
    add = graph.add_node("test.add", {"b": 1}).id
    graph.connect(src, "value", r1, "value")
    graph.connect(r1, "value", r2, "value")
    graph.connect(r2, "value", add, "a")
    graph.connect(add, "sum", graph.add_node("test.sink").id, "value")
    assert graph.output_type(r2, "value") == "INT"
    with pytest.raises(GraphEditError, match="gives INT"):
        graph.connect(r2, "value", graph.add_node("basic.format_text").id, "template")
    assert executor.run(graph).values[add]["sum"] == 5
    text = graph.add_node("basic.text").id
    with pytest.raises(GraphEditError, match=f"feeds input 'a' of node {add}"):
        graph.connect(text, "text", r1, "value")  # would carry STRING through to an INT input
    graph.fill(dict(graph.nodes), [*graph.links.values(), Link(text, "text", r1, "value")])
    assert [(p.node_id, p.field) for p in executor.validate(graph)] == [(add, "a")]  # as a hand-edited file


def test_cached_model_loads_still_record_their_model_files(registry, graph, tmp_path):
    from nodeflow.core import Input, Node, Output

    weights = tmp_path / "weights.safetensors"
    weights.write_bytes(b"not really weights")

    class LoadModel(Node):
        type_id = "test.load_model"
        title = "Load"
        inputs = (Input("path", "STRING", default=str(weights), file="file"),)
        outputs = (Output("model", "MODEL"),)

        def run(self, ctx, path):
            ctx.used_model_file(ctx.resolve_path(path))
            return ("model",)

    registry.register(LoadModel)
    executor = Executor(registry, device="cpu")
    load = graph.add_node("test.load_model").id
    graph.connect(load, "model", graph.add_node("test.sink").id, "value")
    first = executor.run(graph)
    second = executor.run(graph)
    assert second.cached == first.executed and list(second.manifest["models"]) == [str(weights)]
    assert second.manifest["models"] == first.manifest["models"]
    assert second.manifest["models"][str(weights)].startswith("sha256:")


def test_a_run_records_where_each_model_can_be_downloaded(registry, graph, tmp_path):
    """The URL the workflow recorded is kept; otherwise the one the library fetched the model from."""
    from nodeflow.core import Node, Output
    from nodeflow.library import default_library

    fetched, recorded = tmp_path / "fetched.safetensors", tmp_path / "recorded.safetensors"
    fetched.write_bytes(b"fetched weights")
    recorded.write_bytes(b"recorded weights")

    class LoadTwo(Node):
        type_id = "test.load_two"
        title = "Load two"
        inputs = ()
        outputs = (Output("model", "MODEL"),)

        def run(self, ctx):
            ctx.used_model_file(fetched)
            ctx.used_model_file(recorded)
            return ("model",)

    registry.register(LoadTwo)
    index = default_library().index
    index.remember_source(index.sha256(fetched), "https://example.org/fetched.safetensors")
    graph.manifest = {"model_urls": {str(recorded): "https://example.org/recorded.safetensors"}}
    graph.connect(graph.add_node("test.load_two").id, "model", graph.add_node("test.sink").id, "value")
    result = Executor(registry, device="cpu").run(graph)
    assert result.manifest["model_urls"] == {str(fetched): "https://example.org/fetched.safetensors",
                                             str(recorded): "https://example.org/recorded.safetensors"}
