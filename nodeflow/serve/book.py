"""The server's prompts: what each client sent, and what came of it (ComfyUI's /history).

The job queue knows each job by its key, the prompt_id; the book keeps the rest of what ComfyUI's
clients ask for (the prompt as sent, its extra_data, outputs per node, status messages) as one
JSON file per prompt under the state folder, written atomically. A prompt is recorded before its
job is queued and saved once the queue holds it, so a server killed at any moment comes back with
every queued prompt (the queue runs them again) and every finished one's history.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nodeflow.core.atomic import write_atomic
from nodeflow.jobs.store import FINISHED, JobStore
from nodeflow.serve.config import MAX_HISTORY

#: extra_data keys never shown back (ComfyUI strips its account keys the same way).
_SECRET_WORDS = ("auth", "token", "key", "secret", "password")


def public_extra(extra: dict[str, Any]) -> dict[str, Any]:
    """extra_data without anything that looks like a credential."""
    return {k: v for k, v in extra.items() if not any(word in k.lower() for word in _SECRET_WORDS)}


@dataclass
class PromptRecord:
    prompt_id: str
    client_id: str | None
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs_to_execute: list[str]
    number: int = 0
    job_id: int = 0
    created: float = field(default_factory=time.time)
    #: None while queued or running; then {"status_str": "success"|"error", "completed", "messages"}.
    status: dict[str, Any] | None = None
    #: {node id: {"images": [{"filename", "subfolder", "type"}]}}
    outputs: dict[str, Any] = field(default_factory=dict)
    messages: list[list[Any]] = field(default_factory=list)

    def queue_item(self) -> list[Any]:
        """ComfyUI's 5-tuple for /queue and /history's `prompt`."""
        return [self.number, self.prompt_id, self.prompt, public_extra(self.extra_data), self.outputs_to_execute]

    def history(self) -> dict[str, Any]:
        meta = {node: {"node_id": node, "display_node": node, "parent_node": None, "real_node_id": node}
                for node in self.outputs}
        return {"prompt": self.queue_item(), "outputs": self.outputs, "status": self.status, "meta": meta}


class PromptBook:
    """Every prompt the server knows, by prompt_id; thread-safe, persisted under `folder`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._records: dict[str, PromptRecord] = {}
        self._lock = threading.RLock()

    def load(self, store: JobStore) -> None:
        """Read the records back after a restart and settle them against the queue."""
        for path in sorted(self.folder.glob("*.json")):
            try:
                record = PromptRecord(**json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue  # a torn or foreign file: not a prompt of ours
            job = store.find(record.prompt_id)
            if job is None:
                path.unlink(missing_ok=True)  # its job was never queued: the client got no answer
                continue
            if record.status is None and job.state in FINISHED:
                record.status = {"status_str": "success" if job.state == "done" else "error",
                                 "completed": job.state == "done", "messages": record.messages}
            self._records[record.prompt_id] = record
        self._trim()

    def add(self, record: PromptRecord) -> None:
        with self._lock:
            self._records[record.prompt_id] = record

    def forget(self, prompt_id: str) -> None:
        with self._lock:
            self._records.pop(prompt_id, None)
            (self.folder / f"{prompt_id}.json").unlink(missing_ok=True)

    def save(self, record: PromptRecord) -> None:
        with self._lock:
            write_atomic(self.folder / f"{record.prompt_id}.json", json.dumps(asdict(record)).encode())
            self._trim()

    def get(self, prompt_id: str) -> PromptRecord | None:
        with self._lock:
            return self._records.get(prompt_id)

    def finished(self) -> list[PromptRecord]:
        with self._lock:
            return sorted((r for r in self._records.values() if r.status is not None),
                          key=lambda r: (r.created, r.number))

    def history(self, max_items: int | None = None, offset: int = 0) -> dict[str, Any]:
        """Finished prompts, oldest first: `offset` skips the oldest, `max_items` keeps that many."""
        records = self.finished()[max(offset, 0):]
        if max_items is not None:
            records = records[:max(max_items, 0)]
        return {r.prompt_id: r.history() for r in records}

    def delete(self, prompt_ids: list[str]) -> None:
        for prompt_id in prompt_ids:
            record = self.get(prompt_id)
            if record is not None and record.status is not None:
                self.forget(prompt_id)

    def clear(self) -> None:
        self.delete([r.prompt_id for r in self.finished()])

    def _trim(self) -> None:
        finished = self.finished()
        for record in finished[: max(len(finished) - MAX_HISTORY, 0)]:
            self.forget(record.prompt_id)
