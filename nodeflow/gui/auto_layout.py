"""Positions for nodes a file gives none (hand-written or converted workflows)."""

from __future__ import annotations

import networkx as nx

from nodeflow.core.graph import Graph


def auto_positions(graph: Graph, spacing: tuple[float, float] = (280.0, 200.0)) -> dict[str, list[float]]:
    """Positions for nodes that have none (hand-written files): columns by depth, in id order."""
    missing = [i for i, r in graph.nodes.items() if "pos" not in r.ui]
    if not missing:
        return {}
    g = graph.to_networkx()
    depth: dict[str, int] = {}
    try:
        for node in nx.topological_sort(g):
            depth[node] = max((depth[p] + 1 for p in g.predecessors(node)), default=0)
    except nx.NetworkXUnfeasible:
        depth = dict.fromkeys(g.nodes, 0)
    rows: dict[int, int] = {}
    out = {}
    for node_id in missing:
        column = depth.get(node_id, 0)
        row = rows.get(column, 0)
        rows[column] = row + 1
        out[node_id] = [column * spacing[0], row * spacing[1]]
    return out
