"""The loader, fed random JSON and mutated valid files, raises nothing but WorkflowFormatError."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spine_nodes import chain, make_registry

from nodeflow.core import Graph, WorkflowFormatError, workflow

REGISTRY = make_registry()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


def _valid() -> dict:
    graph = Graph(REGISTRY)
    ids = chain(graph, ("test.source", {"value": 3}), ("test.add", {"b": 4}), ("test.sink", {}))
    graph.set_ui(ids[0], pos=[1, 2])
    graph.add_group("g", [0, 0, 1, 1])
    return json.loads(workflow.dumps(graph))


def _load_or_format_error(text: str) -> None:
    try:
        graph, _ = workflow.loads(text, REGISTRY)
    except WorkflowFormatError:
        return
    again = workflow.dumps(graph)
    assert workflow.dumps(workflow.loads(again, REGISTRY)[0]) == again


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_json(value):
    _load_or_format_error(json.dumps(value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_valid_files(data):
    doc = _valid()
    for _ in range(data.draw(st.integers(1, 4))):
        containers = _containers(doc)
        target = data.draw(st.sampled_from(containers))
        if isinstance(target, dict) and target:
            key = data.draw(st.sampled_from(sorted(target)))
            action = data.draw(st.sampled_from(["replace", "delete"]))
            if action == "delete":
                del target[key]
            else:
                target[key] = data.draw(json_values)
        elif isinstance(target, list) and target:
            index = data.draw(st.integers(0, len(target) - 1))
            if data.draw(st.booleans()):
                target[index] = data.draw(json_values)
            else:
                target.append(target[index])
    _load_or_format_error(json.dumps(doc))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_as_text(blob):
    _load_or_format_error(blob.decode("utf-8", errors="replace"))


def _containers(value) -> list:
    found = [value]
    children = value.values() if isinstance(value, dict) else value
    for child in children:
        if isinstance(child, (dict, list)):
            found += _containers(child)
    return found
