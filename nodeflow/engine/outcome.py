"""What a node gave back, as the executor records it: its return value checked against its
declared outputs, or the exception it raised as one readable line."""

from __future__ import annotations

from typing import Any

from nodeflow.core.errors import NodeError, one_line
from nodeflow.core.spec import Node


def describe(exc: BaseException) -> str:
    """An unexpected exception as one line: its type, and its message cut to a readable length."""
    if isinstance(exc, SystemExit):
        return f"tried to end the program (SystemExit {exc.code!r:.40})"
    return one_line(exc)


def normalise(cls: type[Node], returned: Any) -> dict[str, Any]:
    """A node's return value as {output name: value}, checked against its declaration."""
    names = [o.name for o in cls.outputs]
    if returned is None:
        returned = ()
    if isinstance(returned, dict):
        missing = [n for n in names if n not in returned]
        if missing:
            raise NodeError(f"did not return output '{missing[0]}'")
        return {n: returned[n] for n in names}
    if not isinstance(returned, (tuple, list)) or len(returned) != len(names):
        raise NodeError(f"returned {type(returned).__name__} instead of its {len(names)} outputs")
    return dict(zip(names, returned, strict=True))
