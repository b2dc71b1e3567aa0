"""What every handler reaches: the configuration, the queue, the prompt book, the job thread, the hub."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from nodeflow.core.registry import Registry
from nodeflow.jobs.store import JobStore
from nodeflow.serve.book import PromptBook, PromptRecord
from nodeflow.serve.config import SERVE_BATCH, ServeConfig
from nodeflow.serve.hub import Hub
from nodeflow.serve.worker import Worker

T = TypeVar("T")


@dataclass
class ServerState:
    config: ServeConfig
    store: JobStore
    book: PromptBook
    registry: Registry
    hub: Hub
    worker: Worker

    async def blocking(self, call: Callable[..., T], *args: Any) -> T:
        """Run file, SQLite or validation work off the event loop, so no client waits on another."""
        return await asyncio.to_thread(call, *args)

    def waiting(self) -> tuple[list[PromptRecord], list[PromptRecord]]:
        """The prompts running and those queued, in queue order (the queue decides; the book describes)."""
        running, pending = [], []
        for job in self.store.jobs(SERVE_BATCH, ["queued", "running"]):
            record = self.book.get(job.key or "")
            if record is not None:
                (running if job.state == "running" else pending).append(record)
        return running, pending

    def status(self) -> dict[str, Any]:
        return {"exec_info": {"queue_remaining": self.worker.queue_remaining()}}


STATE = web.AppKey("nodeflow_state", ServerState)


def state_of(request: web.Request) -> ServerState:
    return request.app[STATE]
