"""Where a loader node's model file is: the one rule every "Load ..." node applies to its name field.

An empty name and a missing file each get one clear line naming the field before any heavy
loading starts; a file that is found is reported to the engine so the workflow's manifest
records its hash.
"""

from __future__ import annotations

from pathlib import Path

from nodeflow.core import NodeError, RunContext


def model_path(ctx: RunContext, name: str, field: str, what: str, *, folders: bool = True,
               noun: str | None = None) -> Path:
    """The resolved path of model `name` from input `field`. `what` names the model in messages
    ("no {noun or what} chosen", "{what} not found: ..."); `folders=False` accepts files only."""
    if not name.strip():
        raise NodeError(f"no {noun or what} chosen", field)
    path = ctx.resolve_path(name)
    if not (path.exists() if folders else path.is_file()):
        raise NodeError(f"{what} not found: {name} (looked for {path})", field)
    ctx.used_model_file(path)
    return path
