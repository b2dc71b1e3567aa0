"""Layout setters (groups, node ui) store only what the workflow file holds, and a damaged
autosave gives back every part that loads on its own (core.salvage)."""

import json

import pytest
from spine_nodes import make_registry

from nodeflow.core import Graph, GraphEditError, WorkflowFormatError, workflow
from nodeflow.core.salvage import salvage


@pytest.fixture
def graph():
    return Graph(make_registry())


@pytest.mark.parametrize("values, field", [
    ({"title": False}, "title"), ({"title": None}, "title"), ({"rect": [0, 0, 1]}, "rect"),
    ({"rect": [0, 0, True, 1]}, "rect"), ({"rect": [0, 0, float("inf"), 1]}, "rect"), ({"color": 3}, "color"),
])
def test_set_group_refuses_values_the_file_cannot_hold(graph, values, field):
    group = graph.add_group("Frame", [0, 0, 100, 100])
    with pytest.raises(GraphEditError, match=field):
        graph.set_group(group.id, **values)
    assert (group.title, group.rect, group.color) == ("Frame", [0, 0, 100, 100], None)


def test_add_group_refuses_a_title_that_is_not_text(graph):
    with pytest.raises(GraphEditError, match="title: must be string"):
        graph.add_group(False, [0, 0, 100, 100])
    assert graph.groups == {}


@pytest.mark.parametrize("values", [{"title": 5}, {"pos": [0, "x"]}, {"pos": [float("nan"), 0]},
                                    {"collapsed": "yes"}])
def test_set_ui_refuses_wrong_types(graph, values):
    node = graph.add_node("basic.text", ui={"pos": [1, 2]}).id
    with pytest.raises(GraphEditError):
        graph.set_ui(node, **values)
    assert graph.nodes[node].ui == {"pos": [1, 2]}
    graph.set_ui(node, pos=[3, 4], title="Prompt", collapsed=None)
    assert graph.nodes[node].ui == {"pos": [3, 4], "title": "Prompt"}


def _damaged(graph) -> dict:
    a = graph.add_node("test.add", node_id="1").id
    b = graph.add_node("test.add", node_id="2").id
    graph.connect(a, "sum", b, "a")
    graph.add_group("Kept", [0, 0, 10, 10], group_id="9")
    data = workflow.to_data(graph)
    data["nodes"].append({"id": "3", "type": "test.add", "pos": "here"})  # a broken node
    data["links"].append({"from": ["3", "sum"], "to": ["2", "b"]})  # a link to the broken node
    data["groups"].append({"id": "8", "title": False, "rect": [0, 0, 1, 1]})
    data["metadata"] = "not an object"
    return data


def test_salvage_keeps_every_part_that_loads_and_names_the_rest(graph):
    restored, _report, dropped = salvage(json.dumps(_damaged(graph)), graph.registry)
    assert set(restored.nodes) == {"1", "2"} and set(restored.groups) == {"9"}
    assert list(restored.links) == [("2", "a")]
    assert [line.split(":")[0] for line in dropped] == ["nodes/2", "links/1", "groups/1", "metadata"]
    with pytest.raises(WorkflowFormatError):
        workflow.loads(json.dumps(_damaged(Graph(graph.registry))), graph.registry)


def test_salvage_of_a_sound_file_is_plain_loading(graph):
    graph.add_node("test.add")
    text = workflow.dumps(graph)
    restored, _report, dropped = salvage(text, graph.registry)
    assert dropped == [] and workflow.dumps(restored) == text


@pytest.mark.parametrize("text", ["{broken", '{"format": "other"}', '[1]',
                                  '{"format": "nodeflow-workflow", "version": 99, "nodes": [], "links": []}'])
def test_salvage_refuses_what_is_no_workflow_at_all(graph, text):
    with pytest.raises(WorkflowFormatError):
        salvage(text, graph.registry)


def test_layout_checks_work_after_a_whole_file_was_checked(graph):
    """A part of the schema compiled after the whole once pointed into a document that was not
    there (fastjsonschema marks up what it compiles): every edit after opening a file failed."""
    from nodeflow.core import schema

    schema._compiled.cache_clear()
    schema._compiled_item.cache_clear()
    loaded, _ = workflow.loads(workflow.dumps(graph), graph.registry)
    node = loaded.add_node("test.add").id
    loaded.set_ui(node, pos=[5, 6])
    loaded.add_group("Frame", [0, 0, 10, 10])
    assert loaded.nodes[node].ui["pos"] == [5, 6]
