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
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _compiled() -> Callable[[Any], Any]:
    import fastjsonschema

    return fastjsonschema.compile(_inlined(_schema()))


def _inlined(schema: Any, definitions: dict[str, Any] | None = None) -> Any:
    """`schema` with each `{"$ref": "#/definitions/X"}` replaced by X itself. fastjsonschema
    compiles a ref into a call whose error-message name it formats with `locals()` on every call,
    not only on failure: for the ids, sockets and points of a 200,000-node workflow that was most
    of the time spent loading it. (Refs to other places, such as a subgraph's nodes, stay.)"""
    definitions = schema.get("definitions", {}) if definitions is None else definitions
    if isinstance(schema, list):
        return [_inlined(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/") and len(schema) == 1:
        return _inlined(definitions[ref.removeprefix("#/definitions/")], definitions)
    return {key: _inlined(value, definitions) for key, value in schema.items()}


@lru_cache(maxsize=4)
def _compiled_item(part: str) -> Callable[[Any], Any]:
    import fastjsonschema

    schema = _schema()
    # fastjsonschema remembers the full schema's "$id" between compiles and then looks this part's
    # refs up under it; the handler answers that look-up with the schema itself, never the network.
    return fastjsonschema.compile({"definitions": schema["definitions"], **schema["properties"][part]["items"]},
                                  handlers={"": lambda uri: _schema()})


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


def item_problem(part: str, item: dict[str, Any]) -> str | None:
    """What is wrong with one entry of the file's `part` list ("nodes", "groups") as the schema
    says, e.g. "title: must be string"; None when it is fine.

    The graph's setters check edits with this, so an edit can never store what the file format
    (and the canvas that draws it) does not accept: the same rule for the file and the editor.
    """
    from fastjsonschema import JsonSchemaValueException

    try:
        _compiled_item(part)(item)
    except JsonSchemaValueException as exc:
        where = "/".join(str(p) for p in list(exc.path or [])[1:])
        message = exc.message.removeprefix(str(exc.name)).strip()
        return f"{where}: {message[:200]}" if where else message[:200]
    return None
