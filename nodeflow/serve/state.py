"""What every handler reaches: the configuration, the queue, the prompt book, the job thread, the hub."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from nodeflow.core.registry import Registry
from nodeflow.jobs.store import JobStore
from nodeflow.serve.book import PromptBook
from nodeflow.serve.config import ServeConfig
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

    def status(self) -> dict[str, Any]:
        return {"exec_info": {"queue_remaining": self.worker.queue_remaining()}}


STATE = web.AppKey("nodeflow_state", ServerState)


def state_of(request: web.Request) -> ServerState:
    return request.app[STATE]
