"""Subgraphs in the core: file round trip, linked edits, detach, nesting, versions, bounds, convert."""

from __future__ import annotations

import copy
import json
import time

import pytest
from spine_nodes import make_registry
from subgraph_builders import add_definition, instance, two_instances

from nodeflow.core import Graph, workflow
from nodeflow.core.errors import GraphEditError, WorkflowFormatError
from nodeflow.core.graph import Link, NodeRecord
from nodeflow.core.node_bound import MAX_EXPANDED_NODES
from nodeflow.core.subgraphs.definition import BOUNDARY_IN, BOUNDARY_OUT, Definition, Socket, instance_type
from nodeflow.core.subgraphs.edit import convert_to_subgraph, detach, revise
from nodeflow.core.subgraphs.expand import expand


@pytest.fixture
def registry():
    return make_registry()


@pytest.fixture
def graph(registry):
    return Graph(registry)


def flat(graph: Graph) -> Graph:
    expanded, problems = expand(graph)
    assert problems == []
    return expanded


def test_an_instance_is_a_node_with_the_definitions_sockets_and_widgets(graph):
    n = two_instances(graph)
    cls = graph.node_class(n["a"])
    assert [i.name for i in cls.inputs] == ["x", "offset"] and [o.name for o in cls.outputs] == ["y"]
    assert cls.input("offset").default == 10 and cls.title == "Add Ten"
    with pytest.raises(GraphEditError, match="expects INT"):
        graph.connect(graph.add_node("test.scale").id, "x", n["a"], "x")
    graph.set_param(n["a"], "offset", 3)
    assert graph.nodes[n["a"]].params == {"offset": 3}


def test_round_trip_is_byte_identical_and_keeps_unknown_fields(graph, registry):
    two_instances(graph)
    graph.subgraphs["add-ten"].extra["comfyui"] = {"id": "uuid-1"}
    graph.subgraphs["add-ten"].inputs[0].extra["label"] = "the x"
    text = workflow.dumps(graph)
    again, report = workflow.loads(text, registry)
    assert workflow.dumps(again) == text and report.messages == []
    assert json.loads(text)["subgraphs"][0]["inputs"] == [{"name": "x", "type": "INT", "label": "the x"}]


def test_expansion_names_inner_nodes_instance_colon_inner(graph):
    n = two_instances(graph)
    expanded = flat(graph)
    a_inner, b_inner = f"{n['a']}:1", f"{n['b']}:1"
    assert set(expanded.nodes) == {n["source"], a_inner, b_inner, n["sink_a"], n["sink_b"]}
    assert expanded.link_into(a_inner, "a") == Link(n["source"], "value", a_inner, "a")
    assert expanded.link_into(n["sink_b"], "value") == Link(b_inner, "sum", n["sink_b"], "value")
    assert expanded.label(a_inner) == f"node {a_inner} (Add) in subgraph 'Add Ten' (node {n['a']})"


def test_editing_the_definition_changes_every_instance_but_instance_values_win(graph):
    n = two_instances(graph)
    graph.set_param(n["b"], "offset", 3)
    graph.subgraphs["add-ten"].nodes["1"].params["b"] = 20
    expanded = flat(graph)
    assert expanded.nodes[f"{n['a']}:1"].params["b"] == 20
    assert expanded.nodes[f"{n['b']}:1"].params["b"] == 3
    assert graph.node_class(n["a"]).input("offset").default == 20  # the instance shows the new default


def test_detach_gives_one_instance_its_own_copy(graph):
    n = two_instances(graph)
    copy = detach(graph, n["b"])
    graph.subgraphs["add-ten"].nodes["1"].params["b"] = 20
    expanded = flat(graph)
    assert expanded.nodes[f"{n['a']}:1"].params["b"] == 20 and expanded.nodes[f"{n['b']}:1"].params["b"] == 10
    assert graph.nodes[n["b"]].type == instance_type(copy.id) and copy.id != "add-ten"
    assert graph.link_into(n["b"], "x") is not None and graph.links_from(n["b"])


def test_nested_definitions_expand_with_one_colon_per_level(graph):
    add_definition(graph)
    outer = Definition("twice", "Twice", 1, [Socket("x", "INT")], [Socket("y", "INT")])
    outer.nodes = {"1": NodeRecord("1", instance_type("add-ten"), 1, {}),
                   "2": NodeRecord("2", instance_type("add-ten"), 1, {"offset": 5})}
    outer.links = {("1", "x"): Link(BOUNDARY_IN, "x", "1", "x"), ("2", "x"): Link("1", "y", "2", "x"),
                   (BOUNDARY_OUT, "y"): Link("2", "y", BOUNDARY_OUT, "y")}
    graph.subgraphs["twice"] = outer
    source = graph.add_node("test.source", {"value": 1}).id
    twice = instance(graph, "twice")
    sink = graph.add_node("test.sink").id
    graph.connect(source, "value", twice, "x")
    graph.connect(twice, "y", sink, "value")
    expanded = flat(graph)
    assert sorted(expanded.nodes) == sorted([source, sink, f"{twice}:1:1", f"{twice}:2:1"])
    assert expanded.link_into(f"{twice}:2:1", "a").src == f"{twice}:1:1"
    assert expanded.link_into(sink, "value").src == f"{twice}:2:1"
    assert expanded.nodes[f"{twice}:2:1"].params["b"] == 5


def test_a_scalar_input_left_unlinked_passes_the_instances_value_in(graph):
    add_definition(graph)
    a = instance(graph, "add-ten", x=7)
    sink = graph.add_node("test.sink").id
    graph.connect(a, "y", sink, "value")
    assert flat(graph).nodes[f"{a}:1"].params["a"] == 7


def test_a_muted_instance_mutes_its_inner_nodes(graph):
    n = two_instances(graph)
    graph.set_mode(n["a"], "muted")
    assert flat(graph).nodes[f"{n['a']}:1"].mode == "muted"


def test_a_saved_instance_of_an_older_version_migrates_by_name(graph, registry):
    n = two_instances(graph)
    data = json.loads(workflow.dumps(graph))
    definition = data["subgraphs"][0]
    definition["version"] = 2
    definition["inputs"][0]["name"] = "value"
    definition["links"][0]["from"] = ["@in", "value"]
    definition["migrations"] = [{"from": 1, "rename_inputs": {"x": "value"}}]
    loaded, report = workflow.from_data(data, registry)
    assert loaded.nodes[n["a"]].version == 2 and loaded.link_into(n["a"], "value") is not None
    assert any("migrated from version 1 to 2" in m for m in report.migrated)
    assert flat(loaded).link_into(f"{n['a']}:1", "a").src == n["source"]


def test_revising_sockets_bumps_the_version_and_carries_or_names_what_it_cannot(graph):
    n = two_instances(graph)
    renamed = copy.deepcopy(graph.subgraphs["add-ten"])
    renamed.inputs[0].name = "value"
    renamed.links[("1", "a")] = Link(BOUNDARY_IN, "value", "1", "a")
    assert revise(graph, renamed, rename_inputs={"x": "value"}) == []
    assert graph.subgraphs["add-ten"].version == 2 and graph.nodes[n["a"]].version == 2
    assert graph.link_into(n["a"], "value") is not None and graph.link_into(n["a"], "x") is None
    removed = copy.deepcopy(graph.subgraphs["add-ten"])
    removed.outputs, removed.links = [], {("1", "a"): removed.links[("1", "a")]}
    lost = revise(graph, removed)
    assert graph.subgraphs["add-ten"].version == 3
    assert lost == [f"node {n['a']}: link from 'y' dropped (subgraph 'Add Ten' version 3 has no such output)",
                    f"node {n['b']}: link from 'y' dropped (subgraph 'Add Ten' version 3 has no such output)"]


def test_a_definition_inside_itself_is_one_line(graph):
    add_definition(graph)
    graph.subgraphs["add-ten"].nodes["2"] = NodeRecord("2", instance_type("add-ten"), 1, {})
    instance(graph, "add-ten")
    problems = expand(graph)[1]
    assert [str(p) for p in problems] == [
        "subgraph 'Add Ten' contains itself (Add Ten -> Add Ten); a subgraph may not be inside itself"]


def test_a_missing_definition_and_disagreeing_sockets_are_named(graph):
    n = two_instances(graph)
    ghost = instance(graph, "ghost")
    graph.fill(dict(graph.nodes), [*graph.links.values(), Link(n["source"], "value", n["a"], "z")])
    problems = [str(p) for p in expand(graph)[1]]
    assert problems == [f"node {ghost}: uses subgraph 'ghost', which this workflow does not define"]
    graph.remove_node(ghost)
    problems = [str(p) for p in expand(graph)[1]]
    assert problems == [f"node {n['a']} input 'z': is linked, but subgraph 'Add Ten' (version 1) has no input of "
                        "this name"]


def test_definitions_doubling_at_every_level_are_refused_before_expanding(graph):
    add_definition(graph, "level0")
    for level in range(1, 25):
        d = Definition(f"level{level}", f"Level {level}", 1, [Socket("x", "INT")], [Socket("y", "INT")])
        below = instance_type(f"level{level - 1}")
        d.nodes = {"1": NodeRecord("1", below, 1, {}), "2": NodeRecord("2", below, 1, {})}
        d.links = {("1", "x"): Link(BOUNDARY_IN, "x", "1", "x"), ("2", "x"): Link("1", "y", "2", "x"),
                   (BOUNDARY_OUT, "y"): Link("2", "y", BOUNDARY_OUT, "y")}
        graph.subgraphs[d.id] = d
    instance(graph, "level24")
    text = workflow.dumps(graph)
    assert len(text) < 20_000
    started = time.perf_counter()
    problems = expand(workflow.loads(text, graph.registry.base)[0])[1]
    assert time.perf_counter() - started < 1.0
    assert [str(p) for p in problems] == [
        f"this workflow's subgraphs would expand to 16,777,216 nodes, more than the {MAX_EXPANDED_NODES:,} a "
        "workflow may hold; refused before expanding"]


def test_convert_selection_makes_sockets_of_crossing_links_and_widgets_of_edited_values(graph):
    source = graph.add_node("test.source", {"value": 3}).id
    add = graph.add_node("test.add", {"b": 4}, ui={"pos": [100, 50]}).id
    scale = graph.add_node("test.scale").id
    sink = graph.add_node("test.sink").id
    graph.connect(source, "value", add, "a")
    graph.connect(add, "sum", scale, "x")
    graph.connect(scale, "x", sink, "value")
    before = {(r.type, json.dumps(r.params, sort_keys=True)) for r in graph.nodes.values()}
    inst = convert_to_subgraph(graph, [add, scale], "Add and Scale")
    definition = graph.subgraphs["add-and-scale"]
    assert [(s.name, s.type) for s in definition.inputs] == [("a", "INT")]
    assert [(s.name, s.type) for s in definition.outputs] == [("x", "FLOAT")]
    assert [(w.name, w.node, w.param) for w in definition.widgets] == [("b", add, "b")]
    assert set(graph.nodes) == {source, inst, sink} and graph.nodes[inst].ui["pos"] == [100, 50]
    expanded = flat(graph)
    assert {(r.type, json.dumps(r.params, sort_keys=True)) for r in expanded.nodes.values()} == before
    assert expanded.link_into(f"{inst}:{scale}", "x").src == f"{inst}:{add}"
    assert expanded.link_into(sink, "value").src == f"{inst}:{scale}"


def test_broken_definitions_in_a_file_are_one_line_errors(graph, registry):
    two_instances(graph)
    data = json.loads(workflow.dumps(graph))
    data["subgraphs"][0]["links"][0]["from"] = ["@in", "nope"]
    with pytest.raises(WorkflowFormatError, match="subgraph 'add-ten': link 1 uses its input 'nope', which it "
                                                  "does not declare"):
        workflow.from_data(data, registry)
    data = json.loads(workflow.dumps(graph))
    data["subgraphs"].append(data["subgraphs"][0])
    with pytest.raises(WorkflowFormatError, match="defined twice"):
        workflow.from_data(data, registry)


def test_a_subgraph_file_is_reused_in_a_second_workflow_and_updated_from_there(graph, registry, tmp_path):
    from nodeflow.core.subgraphs.files import save_subgraph, use_subgraph

    n = two_instances(graph)
    path = tmp_path / "add-ten.json"
    save_subgraph(graph, "add-ten", path)
    second = Graph(registry)
    definition_id, lost = use_subgraph(second, path)
    source = second.add_node("test.source").id
    inst = instance(second, definition_id)
    second.connect(source, "value", inst, "x")
    second.connect(inst, "y", second.add_node("test.sink").id, "value")
    assert lost == [] and flat(second).nodes[f"{inst}:1"].params["b"] == 10
    renamed = copy.deepcopy(graph.subgraphs["add-ten"])
    renamed.inputs[0].name = "value"
    renamed.links[("1", "a")] = Link(BOUNDARY_IN, "value", "1", "a")
    renamed.nodes["1"].params["b"] = 30
    revise(graph, renamed, rename_inputs={"x": "value"})
    save_subgraph(graph, "add-ten", path)
    assert graph.link_into(n["a"], "value") is not None
    assert use_subgraph(second, path) == ("add-ten", [])
    assert second.nodes[inst].version == 2 and second.link_into(inst, "value").src == source
    assert flat(second).nodes[f"{inst}:1"].params["b"] == 30


@pytest.mark.parametrize("text, message", [
    ("{", "not valid JSON"), ('{"format": "nodeflow-workflow"}', "not a NodeFlow subgraph file"),
    ('{"format": "nodeflow-subgraph", "version": 9, "subgraph": {}}', "version 9 is not one"),
    ('{"format": "nodeflow-subgraph", "version": 1, "subgraph": {"id": "x"}}', "subgraphs/0"),
])
def test_a_broken_subgraph_file_is_one_line(registry, text, message):
    from nodeflow.core.subgraphs.files import loads_subgraph

    with pytest.raises(WorkflowFormatError, match=message) as caught:
        loads_subgraph(text, registry)
    assert "\n" not in str(caught.value)


def test_a_definition_view_edits_the_definition_every_instance_uses(graph):
    from nodeflow.core.subgraphs.view import DefinitionView

    n = two_instances(graph)
    view = DefinitionView(graph, "add-ten")
    assert [o.name for o in view.graph.node_class("@in").outputs] == ["x"]
    assert [i.name for i in view.graph.node_class("@out").inputs] == ["y"]
    view.graph.set_param("1", "b", 21)
    scale = view.graph.add_node("test.scale").id
    view.graph.connect("1", "sum", scale, "x")
    view.graph.connect("@in", "x", "1", "a")
    assert set(graph.subgraphs["add-ten"].nodes) == {"1", scale}
    expanded = flat(graph)
    assert expanded.nodes[f"{n['a']}:1"].params["b"] == 21 and f"{n['b']}:{scale}" in expanded.nodes


def test_definitions_nested_thousands_deep_load_and_are_refused_in_one_line(graph, registry):
    add_definition(graph, "level0")
    for level in range(1, 1200):
        d = Definition(f"level{level}", f"Level {level}", 1, [Socket("x", "INT")], [Socket("y", "INT")])
        d.nodes = {"1": NodeRecord("1", instance_type(f"level{level - 1}"), 1, {})}
        d.links = {("1", "x"): Link(BOUNDARY_IN, "x", "1", "x"), (BOUNDARY_OUT, "y"): Link("1", "y", BOUNDARY_OUT, "y")}
        graph.subgraphs[d.id] = d
    instance(graph, "level1199")
    loaded, _ = workflow.loads(workflow.dumps(graph), registry)
    problems = [str(p) for p in expand(loaded)[1]]
    assert problems == ["subgraphs are nested more than 32 deep (subgraph 'Level 1199' and inward); refused before "
                        "expanding"]


def test_a_new_instance_stores_no_values_so_it_follows_the_definition(graph):
    add_definition(graph)
    added = graph.add_node(instance_type("add-ten")).id
    assert graph.nodes[added].params == {}
    graph.subgraphs["add-ten"].nodes["1"].params["b"] = 30
    assert flat_params(graph, f"{added}:1")["b"] == 30


def flat_params(graph: Graph, node_id: str) -> dict:
    return expand(graph)[0].nodes[node_id].params


def test_one_definition_over_the_bound_is_refused_before_expanding(graph):
    big = Definition("big", "Big", 1, [], [])
    big.nodes = {str(i): NodeRecord(str(i), "test.source", 1, {}) for i in range(MAX_EXPANDED_NODES + 1)}
    graph.subgraphs["big"] = big
    instance(graph, "big")
    started = time.perf_counter()
    problems = [str(p) for p in expand(graph)[1]]
    assert time.perf_counter() - started < 1.0
    assert problems == [f"this workflow's subgraphs would expand to {MAX_EXPANDED_NODES + 1:,} nodes, more than the "
                        f"{MAX_EXPANDED_NODES:,} a workflow may hold; refused before expanding"]


def test_a_link_a_newer_version_cannot_carry_is_kept_and_named_on_load(graph, registry):
    n = two_instances(graph)
    data = json.loads(workflow.dumps(graph))
    definition = data["subgraphs"][0]
    definition["version"], definition["inputs"] = 2, []
    definition["links"] = [link for link in definition["links"] if link["from"][0] != "@in"]
    definition["migrations"] = [{"from": 1}]
    loaded, report = workflow.from_data(data, registry)
    assert loaded.link_into(n["a"], "x") is not None  # nothing the user made is lost
    assert (f"node {n['a']} input 'x': is linked, but subgraph 'Add Ten' (version 2) has no input of this name; "
            "kept, but it cannot run until fixed") in report.migrated
    assert [str(p) for p in expand(loaded)[1]] == [
        f"node {i} input 'x': is linked, but subgraph 'Add Ten' (version 2) has no input of this name"
        for i in (n["a"], n["b"])]
