"""The executor's events as ComfyUI's websocket messages, for one prompt at a time.

Text messages are `{"type", "data"}`; a sampler's preview is a binary frame: big-endian uint32
event type 1 (a preview image), uint32 format (1 = JPEG), then the JPEG bytes. Cached nodes that
come one after another are announced in one `execution_cached`, as ComfyUI does for its own.
Node ids are the prompt's own (the importer keeps them).
"""

from __future__ import annotations

import io
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from nodeflow.engine import events as ev

PREVIEW_IMAGE = 1
JPEG = 1

Message = tuple[str, dict[str, Any]]


def now_ms() -> int:
    return int(time.time() * 1000)


def preview_frame(image: Any) -> bytes:
    """A PIL preview as ComfyUI's binary frame (JPEG)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=85)
    return struct.pack(">II", PREVIEW_IMAGE, JPEG) + buffer.getvalue()


@dataclass
class Translator:
    """Turns one prompt's run into messages. `classes` maps node id -> ComfyUI class_type."""

    prompt_id: str
    classes: dict[str, str]
    executed: list[str] = field(default_factory=list)
    failed: tuple[str, str] | None = None  # (node id, message) of the first failure
    current: str | None = None
    _cached: list[str] = field(default_factory=list)

    def start(self) -> list[Message]:
        return [("execution_start", {"prompt_id": self.prompt_id, "timestamp": now_ms()})]

    def event(self, event: ev.Event) -> list[Message]:
        """Messages for one executor event (previews are handled by the caller: they are binary)."""
        if isinstance(event, ev.NodeFinished) and event.cached:
            self._cached.append(event.node_id)
            self.executed.append(event.node_id)
            return []
        out = self._flush_cached()
        if isinstance(event, ev.NodeStarted):
            self.current = event.node_id
            out.append(("executing", {"node": event.node_id, "display_node": event.node_id,
                                      "prompt_id": self.prompt_id}))
        elif isinstance(event, ev.NodeProgress):
            out.append(("progress", {"value": event.step, "max": event.total, "prompt_id": self.prompt_id,
                                     "node": event.node_id}))
        elif isinstance(event, ev.NodeFinished):
            self.executed.append(event.node_id)
        elif isinstance(event, ev.NodeFailed) and self.failed is None:
            self.failed = (event.node_id, event.message)
        return out

    def _flush_cached(self) -> list[Message]:
        if not self._cached:
            return []
        nodes, self._cached = self._cached, []
        return [("execution_cached", {"nodes": nodes, "prompt_id": self.prompt_id, "timestamp": now_ms()})]

    def executed_message(self, node_id: str, output: dict[str, Any]) -> Message:
        return ("executed", {"node": node_id, "display_node": node_id, "output": output,
                             "prompt_id": self.prompt_id})

    def finish(self, status: str, error: str) -> list[Message]:
        """The end of the run: success, error or interrupted, then `executing` with node null."""
        out = self._flush_cached()
        if status == "done":
            out.append(("execution_success", {"prompt_id": self.prompt_id, "timestamp": now_ms()}))
        elif status == "cancelled":
            node = self.current
            out.append(("execution_interrupted", {"prompt_id": self.prompt_id, "node_id": node,
                                                  "node_type": self.classes.get(node or "", ""),
                                                  "executed": list(self.executed), "timestamp": now_ms()}))
        else:
            node, message = self.failed or (self.current, error)
            out.append(("execution_error", {
                "prompt_id": self.prompt_id, "node_id": node, "node_type": self.classes.get(node or "", ""),
                "executed": list(self.executed), "exception_message": message or error,
                "exception_type": "NodeError", "traceback": [], "current_inputs": {}, "current_outputs": {},
                "timestamp": now_ms()}))
        out.append(("executing", {"node": None, "display_node": None, "prompt_id": self.prompt_id}))
        return out
