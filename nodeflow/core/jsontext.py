"""Stable, human-diffable JSON text: small containers on one line, big ones one item per line.

`json.dumps(indent=2)` puts every list element on its own line, so a link becomes six lines and a
position three; one-line JSON can't be diffed at all. This printer keeps the output deterministic
(same value, same bytes) so load-then-save is byte-identical.
"""

from __future__ import annotations

import json
from typing import Any

WIDTH = 100


def dumps(value: Any) -> str:
    return _render(value, 0) + "\n"


def _inline(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


def _render(value: Any, indent: int) -> str:
    flat = _inline(value)
    top_level = indent <= 2  # the file and its sections (nodes, links...) always get a line per item
    if not isinstance(value, (dict, list)) or not value or (not top_level and indent + len(flat) <= WIDTH):
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + _render(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [
        f"{pad}{json.dumps(k, ensure_ascii=False)}: {_render(v, indent + 2)}" for k, v in value.items()
    ]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
