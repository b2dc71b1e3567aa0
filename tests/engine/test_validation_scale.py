"""Validation is linear in the graph's size: a long chain of reroutes (each one's type looked up
through all those before it) costs a number of steps proportional to its length, not its square.

Steps are counted (links looked up), not timed, so the test means the same on a busy machine."""

from __future__ import annotations

import json

from nodeflow.core import default_registry, workflow
from nodeflow.core.graph import Graph
from nodeflow.engine.plan import make_plan, validate


def reroute_chain(length: int) -> Graph:
    nodes = [{"id": "t", "type": "basic.text", "params": {"text": "x"}}]
    links, previous, output = [], "t", "text"
    for i in range(length):
        nodes.append({"id": str(i), "type": "basic.reroute"})
        links.append({"from": [previous, output], "to": [str(i), "value"]})
        previous, output = str(i), "value"
    nodes.append({"id": "show", "type": "basic.show"})
    links.append({"from": [previous, output], "to": ["show", "value"]})
    text = json.dumps({"format": "nodeflow-workflow", "version": 1, "nodes": nodes, "links": links})
    return workflow.loads(text, default_registry())[0]


def test_a_reroute_chain_validates_in_steps_linear_in_its_length(monkeypatch):
    lookups = {"count": 0}
    original = Graph.link_into

    def counted(self, node_id, input_name):
        lookups["count"] += 1
        return original(self, node_id, input_name)

    counts = []
    for length in (1_000, 4_000):
        graph = reroute_chain(length)
        monkeypatch.setattr(Graph, "link_into", counted)
        lookups["count"] = 0
        assert validate(graph) == []
        counts.append(lookups["count"])
        monkeypatch.setattr(Graph, "link_into", original)
    assert counts[1] < 5 * counts[0], counts  # 4x the nodes: about 4x the steps, not 16x
    assert counts[1] < 10 * 4_000, counts


def test_a_long_reroute_chain_plans_in_link_order():
    graph = reroute_chain(20_000)
    plan = make_plan(graph)
    assert plan.order[0] == "t" and plan.order[-1] == "show" and len(plan.order) == 20_002
