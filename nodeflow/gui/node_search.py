"""Ranking node types for the search box (Tab, double-click on the canvas, a wire dropped on it,
the palette's filter), best match first.

A node type is found by its title, by the ComfyUI class and display names it stands for (the
class map, `interop.comfyui.names.comfy_names`: the one source of those aliases), by its type
id and, last, by its category. Each name is matched exactly, by prefix, word by word ("empty lat
im"), as a substring, letter by letter ("ksmplr") and, for typos, by similarity ("ksampelr").

The editor imports the class map directly: `interop` is Qt-free and torch-free and sits below the
GUI (which already opens ComfyUI files through `interop.loading`), so no circle and no second copy
of the names is needed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from difflib import SequenceMatcher
from functools import lru_cache

from nodeflow.core.registry import Registry
from nodeflow.core.spec import Node
from nodeflow.interop.comfyui.names import comfy_names

#: Below this similarity (difflib ratio of the squashed texts) a name is no typo of the query.
TYPO_RATIO = 0.75
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def squash(text: str) -> str:
    """Lower case letters and digits only: "CLIP Text Encode (Prompt)" -> "cliptextencodeprompt"."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def words(text: str) -> list[str]:
    """Words of a title or a CamelCase class name: "CLIPTextEncode" -> clip, text, encode."""
    return [w.lower() for w in _WORD.findall(text)]


def name_score(name: str, query: str) -> float | None:
    """How well `query` names `name`: 0 exact, 1 prefix, 2 word prefixes in order, 3 substring,
    4 every query word inside, 5 letters in order, 6 a typo; lower is better, None no match."""
    q, n = squash(query), squash(name)
    if not q:
        return 0.0
    if not n:
        return None
    if n == q:
        return 0.0
    if n.startswith(q):
        return 1.0 + len(n) / 1000
    query_words, name_words = words(query), words(name)
    if query_words and _prefixes_in_order(query_words, name_words):
        return 2.0 + len(name_words) / 100
    if q in n:
        return 3.0 + n.index(q) / 100
    if len(query_words) > 1 and all(w in n for w in query_words):
        return 4.0
    gaps = _subsequence_gaps(q, n)
    if gaps is not None and len(q) >= 3:
        return 5.0 + gaps / (10 * len(n))
    ratio = SequenceMatcher(None, q, n[: len(q) + 2]).ratio()
    if len(q) >= 4 and ratio >= TYPO_RATIO:
        return 6.0 + (1 - ratio)
    return None


def _prefixes_in_order(query_words: list[str], name_words: list[str]) -> bool:
    i = 0
    for word in query_words:
        while i < len(name_words) and not name_words[i].startswith(word):
            i += 1
        if i == len(name_words):
            return False
        i += 1
    return True


def _subsequence_gaps(q: str, n: str) -> int | None:
    """Letters of q found in order in n: the number of skipped letters between them; else None."""
    pos, gaps, start = -1, 0, None
    for ch in q:
        found = n.find(ch, pos + 1)
        if found < 0:
            return None
        if start is not None:
            gaps += found - pos - 1
        start, pos = found, found
    return gaps


@lru_cache(maxsize=1)
def _aliases() -> Mapping[str, tuple[str, ...]]:
    return comfy_names()


def aliases(cls: type[Node]) -> tuple[str, ...]:
    """The ComfyUI names a node type is also found by."""
    return _aliases().get(cls.type_id, ())


def search_score(cls: type[Node], query: str) -> float | None:
    """Rank a node type for the search box: lower is better, None hides it."""
    if not query.strip():
        return 0.0
    scores = [name_score(name, query) for name in (cls.title, *aliases(cls))]
    tid = name_score(cls.type_id.rsplit(".", 1)[-1], query)
    scores.append(None if tid is None else tid + 0.5)
    category = squash(query) in squash(cls.category)
    scores.append(7.0 if category else None)
    found = [s for s in scores if s is not None]
    return min(found) if found else None


def search(registry: Registry, query: str, candidates: list[type[Node]] | None = None,
           likely: Mapping[str, float] | None = None) -> list[type[Node]]:
    """Matching node types, best first. `likely` (type id -> weight, higher first) orders types
    the text ranks alike: with no text, a dragged wire's likeliest node leads."""
    pool = list(registry) if candidates is None else candidates
    likely = likely or {}
    ranked = []
    for cls in pool:
        score = search_score(cls, query)
        if score is not None:
            ranked.append((int(score), -likely.get(cls.type_id, 0.0), score, cls.category, cls.title, cls))
    return [item[-1] for item in sorted(ranked, key=lambda r: r[:5])]
