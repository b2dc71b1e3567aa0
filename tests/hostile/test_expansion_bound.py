"""Class 5 of the second probe, for the ComfyUI importer: subgraphs that double at every level and
legacy group nodes of thousands of instances are refused by the one node-count bound
(`core.node_bound`), counted before anything is unfolded."""

from __future__ import annotations

import json
import time

from nodeflow.core.node_bound import MAX_EXPANDED_NODES


def ui_workflow(nodes, **extra) -> dict:
    return {"last_node_id": 1, "last_link_id": 0, "nodes": nodes, "links": [], "version": 0.4, **extra}


def test_legacy_group_nodes_that_unfold_past_the_bound_are_refused_before_unfolding(sandbox):
    inner = [{"index": i, "type": "PrimitiveNode", "inputs": [], "outputs": []} for i in range(2_000)]
    nodes = [{"id": i, "type": "workflow>big", "inputs": [], "outputs": []} for i in range(1, 2_001)]
    path = sandbox.file("groups.json", json.dumps(ui_workflow(nodes, extra={"groupNodes": {"big": {
        "nodes": inner, "links": []}}})))
    started = time.process_time()
    code, err = sandbox.cli("validate", path)
    assert code == 2 and f"{MAX_EXPANDED_NODES:,}" in err and "4,00" in err, err
    assert time.process_time() - started < 10
    assert len(err.strip().splitlines()) == 1


def test_subgraphs_that_double_at_every_level_are_refused_before_unfolding(sandbox):
    levels = 24
    definitions = [{"id": "level0", "name": "leaf", "nodes": [{"id": 1, "type": "PrimitiveNode"}], "links": [],
                    "inputs": [], "outputs": []}]
    for level in range(1, levels + 1):
        definitions.append({"id": f"level{level}", "name": f"level {level}", "links": [], "inputs": [],
                            "outputs": [], "nodes": [{"id": 1, "type": f"level{level - 1}"},
                                                     {"id": 2, "type": f"level{level - 1}"}]})
    data = ui_workflow([{"id": 1, "type": f"level{levels}"}], definitions={"subgraphs": definitions})
    path = sandbox.file("doubling.json", json.dumps(data))
    assert path.stat().st_size < 10_000
    started = time.process_time()
    code, err = sandbox.cli("validate", path)
    assert code == 2 and f"{MAX_EXPANDED_NODES:,}" in err, err
    assert time.process_time() - started < 10
