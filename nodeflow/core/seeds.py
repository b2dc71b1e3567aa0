"""Seeds: their range, which inputs of a graph are seeds, and how a seed moves on between runs.

One rule for the editor (control_after_generate after Run, the seeds shown with each output),
`nodeflow run --repeat` and the server: a seed is an input declared `seed=True` that is not
linked (a linked seed is another node's output, not a value to move); its value is the node's
parameter or the input's default; stepping wraps within 0..SEED_MAX, as ComfyUI's increment does.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from nodeflow.core.graph import Graph
from nodeflow.core.types import SEED_MAX

#: Randomized seeds are drawn from 0..RANDOM_SEED_MAX: every one fits a 32-bit field, so the
#: tools people paste them into (A1111, Civitai) keep them exact.
RANDOM_SEED_MAX = 2**32 - 1


def seed_inputs(graph: Graph, node_ids: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(node id, input name) of every unlinked seed input, in the graph's node order (among
    `node_ids` when given). Placeholders of unknown types have none."""
    among = None if node_ids is None else set(node_ids)
    found = []
    for node_id, record in graph.nodes.items():
        if among is not None and node_id not in among:
            continue
        cls = graph.registry.get(record.type)
        for inp in cls.inputs if cls else ():
            if inp.seed and graph.link_into(node_id, inp.name) is None:
                found.append((node_id, inp.name))
    return found


def seed_value(graph: Graph, node_id: str, name: str) -> int:
    """The seed a node runs with: its parameter, or the input's default."""
    record = graph.nodes[node_id]
    value = record.params.get(name, graph.registry.get(record.type).input(name).default)
    return int(value)


def step_seed(value: int, by: int) -> int:
    """`value` moved on by `by` (negative: back), wrapping within 0..SEED_MAX."""
    return (int(value) + by) % (SEED_MAX + 1)


def random_seed(rng: random.Random | None = None) -> int:
    return (rng or random).randint(0, RANDOM_SEED_MAX)
