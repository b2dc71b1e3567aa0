"""Structural check of workflow data against `resources/workflow.schema.json`.

The schema is the published contract for people who write or generate workflow files; checking
against the same file here means the loader and the documentation cannot disagree.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.paths import RESOURCES

SCHEMA_PATH = RESOURCES / "workflow.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def check_schema(data: Any) -> None:
    """Raise WorkflowFormatError naming the first misplaced field (and its node, if any)."""
    error = next(iter(sorted(_validator().iter_errors(data), key=lambda e: list(e.path).__len__())), None)
    if error is None:
        return
    path = list(error.absolute_path)
    node_id = None
    if len(path) >= 2 and path[0] == "nodes" and isinstance(path[1], int):
        node = data["nodes"][path[1]]
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            node_id = node["id"]
    where = "/".join(str(p) for p in path) or "the top level"
    message = error.message if len(error.message) < 200 else error.message[:200] + "..."
    raise WorkflowFormatError(f"{where}: {message}", node_id, path[2] if len(path) > 2 else None)
