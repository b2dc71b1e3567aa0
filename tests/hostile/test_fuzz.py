"""Hypothesis fuzz: any `--set` text and any workflow value end in a value the node accepts or in
one readable line naming node and field, never in a crash or a non-finite number."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nodeflow.cli.run_command import apply_sets
from nodeflow.core import GraphEditError, WorkflowFormatError, default_registry, workflow
from nodeflow.engine.plan import validate

NODES = [
    {"id": "1", "type": "basic.int", "params": {"value": 1}},
    {"id": "2", "type": "basic.float", "params": {"value": 0.5}},
    {"id": "3", "type": "basic.text", "params": {"text": "hi"}},
    {"id": "4", "type": "basic.format_text", "params": {"template": "{a} {b} {c}"}},
    {"id": "5", "type": "basic.save_text", "params": {"filename_prefix": "fuzz"}},
    {"id": "6", "type": "latent.empty", "params": {"width": 64, "height": 64, "batch_size": 1}},
    {"id": "7", "type": "basic.show", "params": {}},
]
LINKS = [{"from": ["1", "value"], "to": ["4", "a"]}, {"from": ["2", "value"], "to": ["4", "b"]},
         {"from": ["3", "text"], "to": ["4", "c"]}, {"from": ["4", "text"], "to": ["5", "text"]},
         {"from": ["6", "latent"], "to": ["7", "value"]}]
FIELDS = [("1", "value"), ("2", "value"), ("3", "text"), ("4", "template"), ("5", "filename_prefix"),
          ("6", "width"), ("6", "batch_size")]
#: Never created: validation only checks that it could be.
OUT = Path(tempfile.gettempdir()) / "nodeflow-fuzz-never-created" / "out"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                                             max_size=3), max_leaves=8)
hostile_text = st.sampled_from(["nan", "NaN", "inf", "-inf", "1e400", "1e-400", "0x10", " 7 ", "7.0", "", "..",
                                "../x", "/x", "{a.__class__}", "{a:>999999}", "²", "\x00", "true", "9" * 400])


def _graph():
    text = json.dumps({"format": "nodeflow-workflow", "version": 1, "nodes": NODES, "links": LINKS})
    return workflow.loads(text, default_registry())[0]


def _all_finite(graph) -> bool:
    return all(not isinstance(v, float) or math.isfinite(v) for r in graph.nodes.values() for v in r.params.values())


@SETTINGS
@given(st.sampled_from(FIELDS), st.one_of(hostile_text, st.text(max_size=40)))
def test_set_values_are_accepted_checked_or_refused_with_node_and_field(where, value):
    graph = _graph()
    node, field = where
    try:
        apply_sets(graph, [f"{node}.{field}={value}"])
    except GraphEditError as exc:
        assert (exc.problem.node_id, exc.problem.field) == (node, field)
        assert "\n" not in str(exc) and len(str(exc)) < 400
        return
    assert _all_finite(graph)
    for problem in validate(graph, output_dir=OUT):  # a value --set let through may still break a rule at validation
        assert problem.node_id is not None and "\n" not in str(problem)


@SETTINGS
@given(st.sampled_from(FIELDS), st.one_of(json_values, hostile_text))
def test_workflow_values_load_and_validate_to_node_and_field(where, value):
    node, field = where
    nodes = [dict(n, params=dict(n["params"])) for n in NODES]
    next(n for n in nodes if n["id"] == node)["params"][field] = value
    text = json.dumps({"format": "nodeflow-workflow", "version": 1, "nodes": nodes, "links": LINKS})
    try:
        graph, _ = workflow.loads(text, default_registry())
    except WorkflowFormatError as exc:
        assert "\n" not in str(exc)
        return
    problems = validate(graph, output_dir=OUT)
    for problem in problems:
        assert problem.node_id is not None and "\n" not in str(problem) and len(str(problem)) < 400
    if not problems:
        assert workflow.loads(workflow.dumps(graph), default_registry())[0].nodes[node].params[field] == value
