"""One run's side of the memory manager: which results later nodes still wait for, and when a
node's inputs must be in memory.

A result is pinned while a planned node that consumes it has not run yet; after its last consumer
it may be dropped when the budget needs the room (output nodes' values stay in the RunResult).
With a plain `ModelStore` (no budget) every call here does nothing.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from nodeflow.core.context import ModelStore
from nodeflow.core.graph import Graph, Link
from nodeflow.engine.cache import ResultCache
from nodeflow.engine.memory import MemoryManager


def cached_nodes(graph: Graph, order: list[str], key_of: Callable[[str, dict[str, str]], str],
                 cache: ResultCache, links_of: Callable[[str], list[Link] | None]) -> set[str]:
    """The planned nodes the cache would serve now (for the plan, before anything runs).
    `links_of` gives the links a node takes (None: not known before it runs, an open switch)."""
    cached, keys = set(), {}
    for node_id in order:
        record = graph.nodes[node_id]
        links = links_of(node_id)
        if (graph.registry.get(record.type) is None or record.mode == "muted" or links is None
                or any(link.src not in keys for link in links)):
            continue
        keys[node_id] = key_of(node_id, keys)
        if cache.get(keys[node_id]) is not None:
            cached.add(node_id)
    return cached


class RunMemory:
    def __init__(self, store: ModelStore, graph: Graph, order: list[str], work: dict[str, int]) -> None:
        self.manager = store if isinstance(store, MemoryManager) else None
        self.graph = graph
        self.work = work  # node id -> the plan's estimate of its working memory
        self.waiting: dict[str, int] = {}  # node id -> planned consumers that have not run yet
        self.outputs: set[str] = set()  # output nodes: their values stay in the result
        planned = set(order)
        for node_id in order:
            cls = graph.registry.get(graph.nodes[node_id].type)
            if cls is not None and cls.is_output:
                self.outputs.add(node_id)
            for link in graph.links_into(node_id):
                if link.src in planned:
                    self.waiting[link.src] = self.waiting.get(link.src, 0) + 1

    @contextlib.contextmanager
    def using(self, node_id: str, inputs: dict[str, Any]) -> Iterator[None]:
        """While a node runs: the components its inputs use stay in memory, ready, and its
        estimated working memory is made room for."""
        if self.manager is None:
            yield
            return
        self.manager.begin_node(inputs, self.work.get(node_id, 0))
        try:
            yield
        finally:
            self.manager.end_node()

    def served(self, node_id: str, key: str, keys: dict[str, str]) -> None:
        """A node was served from the cache."""
        if self.manager is not None:
            self.manager.touch_result(key, pinned=self.waiting.get(node_id, 0) > 0)
        self._consumed(node_id, keys)

    def ran(self, node_id: str, key: str, outputs: dict[str, Any], keys: dict[str, str],
            drop: Callable[[str], None]) -> None:
        """A node ran and its outputs went into the cache under `key`."""
        if self.manager is not None:
            self.manager.track_result(key, outputs, functools.partial(drop, key),
                                      pinned=self.waiting.get(node_id, 0) > 0)
        self._consumed(node_id, keys)

    def _consumed(self, node_id: str, keys: dict[str, str]) -> None:
        """`node_id` has its inputs: sources with no consumer left may be released."""
        for link in self.graph.links_into(node_id):
            self.waiting[link.src] = self.waiting.get(link.src, 0) - 1
            if self.waiting[link.src] == 0 and self.manager is not None and link.src in keys:
                self.manager.unpin_result(keys[link.src])

    def release(self, key: str, keys: dict[str, str], values: dict[str, Any]) -> None:
        """Forget the values of intermediate nodes whose result is `key` (output nodes' stay)."""
        for node_id, node_key in keys.items():
            if node_key == key and node_id not in self.outputs:
                values.pop(node_id, None)
