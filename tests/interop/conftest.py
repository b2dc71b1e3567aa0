"""Shared helpers for the ComfyUI interop tests: the corpus folder and graph comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow.core import default_registry
from nodeflow.core.graph import Graph

ROOT = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path | None:
    """../shared/corpus/comfyui next to the checkout (or next to the worktree folder), if present."""
    for base in (ROOT.parent, ROOT.parent.parent):
        folder = base / "shared" / "corpus" / "comfyui"
        if folder.is_dir():
            return folder
    return None


@pytest.fixture
def corpus() -> Path:
    folder = corpus_dir()
    if folder is None:
        pytest.skip("the ComfyUI corpus (../shared/corpus/comfyui) is not here")
    return folder


@pytest.fixture(scope="session")
def registry():
    return default_registry()


def _reroute(graph: Graph, node_id: str) -> bool:
    cls = graph.registry.get(graph.nodes[node_id].type)
    return cls is not None and cls.passthrough


def executable_view(graph: Graph) -> tuple[dict[str, tuple[str, dict]], set[tuple[str, str, str, str]]]:
    """What runs, the way ComfyUI's API export sees it: no notes, no muted nodes, bypassed nodes
    wired through (consumers take the bypassed node's first input), placeholders by class only."""
    nodes = {}
    for node_id, record in graph.nodes.items():
        if record.mode == "muted" or record.type == "basic.note" or _reroute(graph, node_id):
            continue  # a reroute is a dot on a wire: the API sees the wire
        params = record.params if graph.registry.get(record.type) is not None else {}
        nodes[node_id] = (record.type, dict(params))
    feeds = {}
    for link in graph.iter_links():
        feeds.setdefault(link.dst, []).append(link)
    links = set()
    for link in graph.iter_links():
        src, out, seen = link.src, link.src_output, set()
        while (graph.nodes[src].mode == "bypass" or _reroute(graph, src)) and src not in seen and feeds.get(src):
            seen.add(src)
            upstream = feeds[src][0]
            src, out = upstream.src, upstream.src_output
        if link.dst in nodes and src in nodes and graph.nodes[link.dst].mode != "bypass":
            links.add((src, out, link.dst, link.dst_input))
    for node_id in [n for n in nodes if graph.nodes[n].mode == "bypass"]:
        del nodes[node_id]
    return nodes, links
