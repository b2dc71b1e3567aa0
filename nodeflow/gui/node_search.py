"""Ranking node types for the search box (double-click on the canvas, or a wire dropped on it)."""

from __future__ import annotations

from nodeflow.core.registry import Registry
from nodeflow.core.spec import Node


def search_score(cls: type[Node], query: str) -> int | None:
    """Rank a node type for the search box: lower is better, None hides it."""
    q = query.strip().lower()
    if not q:
        return 0
    title, tid, cat = cls.title.lower(), cls.type_id.lower(), cls.category.lower()
    if title.startswith(q):
        return 0
    if any(word.startswith(q) for word in title.split()):
        return 1
    if q in title or q in tid:
        return 2
    if q in cat:
        return 3
    letters = iter(title)
    if all(ch in letters for ch in q.replace(" ", "")):
        return 4
    return None


def search(registry: Registry, query: str, candidates: list[type[Node]] | None = None) -> list[type[Node]]:
    pool = list(registry) if candidates is None else candidates
    scored = [(search_score(cls, query), cls.category, cls.title, cls) for cls in pool]
    return [item[3] for item in sorted((s for s in scored if s[0] is not None), key=lambda s: s[:3])]
