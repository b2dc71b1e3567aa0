"""Seeds have one rule: unlinked seed inputs move on by stepping within 0..SEED_MAX, for the
editor's control_after_generate and `nodeflow run --repeat` alike."""

from __future__ import annotations

from pathlib import Path

from nodeflow.core import default_registry, files
from nodeflow.core.seeds import seed_inputs, seed_value, step_seed
from nodeflow.core.types import SEED_MAX
from nodeflow.jobs.sweep import expand

TXT2IMG = Path(__file__).resolve().parents[2] / "workflows" / "txt2img.json"


def _graph():
    return files.load(TXT2IMG, default_registry())[0]


def test_stepping_wraps_both_ways():
    assert step_seed(SEED_MAX, 1) == 0
    assert step_seed(0, -1) == SEED_MAX
    assert step_seed(41, 1) == 42


def test_repeat_wraps_at_the_end_of_the_seed_range():
    graph = _graph()
    ((node_id, name),) = seed_inputs(graph)
    graph.set_param(node_id, name, SEED_MAX)
    jobs = expand([graph], [], repeat=3)
    assert [job.overrides.get(f"{node_id}.{name}", seed_value(graph, node_id, name)) for job in jobs] == [
        SEED_MAX, 0, 1]


def test_a_linked_seed_is_not_a_seed_the_graph_moves():
    graph = _graph()
    ((node_id, name),) = seed_inputs(graph)
    number = graph.add_node("basic.int", {"value": 7}).id
    graph.connect(number, "value", node_id, name)
    assert seed_inputs(graph) == []
