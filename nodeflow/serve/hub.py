"""The websocket clients: who is connected, and a bounded outbox per client.

The job thread posts messages with `post` / `post_frame` from any thread; they are handed to the
event loop and queued per client. Each client has its own sender task, so a slow client only
delays itself: when its outbox is full, progress and previews for it are dropped (those already
waiting first, to make room for a message that matters), and a client whose outbox is full of
messages that matter is disconnected (its history stays on the server).
Messages for a prompt go to the client that sent it; those without a client go to everyone.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

#: Messages waiting for one client before the droppable ones are dropped.
OUTBOX = 256
#: Message types a client can miss without losing track of its prompts.
DROPPABLE = frozenset({"progress", "status"})


@dataclass
class Client:
    sid: str
    socket: web.WebSocketResponse
    #: (message, droppable) waiting to be sent, oldest first.
    outbox: deque = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.clients: dict[str, Client] = {}

    # -- from any thread ---------------------------------------------------------------------

    def post(self, kind: str, data: dict[str, Any], sid: str | None = None) -> None:
        text = json.dumps({"type": kind, "data": data})
        self._call(self._deliver, text, sid, kind in DROPPABLE)

    def post_frame(self, frame: bytes, sid: str | None = None) -> None:
        self._call(self._deliver, frame, sid, True)

    def wants(self, sid: str | None) -> bool:
        """Whether anyone would receive a message for `sid` (previews are not encoded otherwise)."""
        return bool(self.clients) if sid is None else sid in self.clients

    def _call(self, *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(*args)
        except RuntimeError:  # the loop is closed: the server is stopping
            pass

    # -- on the event loop -------------------------------------------------------------------

    def attach(self, sid: str, socket: web.WebSocketResponse) -> Client:
        """A new connection; one reusing a clientId replaces the old one (as in ComfyUI)."""
        old = self.clients.get(sid)
        if old is not None:
            self._drop(old)
        client = Client(sid, socket)
        client.task = self.loop.create_task(self._send_loop(client))
        self.clients[sid] = client
        return client

    def detach(self, client: Client) -> None:
        if self.clients.get(client.sid) is client:
            del self.clients[client.sid]
        if client.task is not None:
            client.task.cancel()

    def send_now(self, client: Client, kind: str, data: dict[str, Any]) -> None:
        self._enqueue(client, json.dumps({"type": kind, "data": data}), False)

    def _deliver(self, message: str | bytes, sid: str | None, droppable: bool) -> None:
        if sid is None:
            targets = list(self.clients.values())
        else:
            targets = [self.clients[sid]] if sid in self.clients else []
        for client in targets:
            self._enqueue(client, message, droppable)

    def _enqueue(self, client: Client, message: str | bytes, droppable: bool) -> None:
        if len(client.outbox) >= OUTBOX:
            if droppable:
                return
            kept = deque(item for item in client.outbox if not item[1])
            if len(kept) >= OUTBOX:
                log.warning("websocket client %s is too slow; disconnected", client.sid)
                self._drop(client)
                return
            client.outbox = kept
        client.outbox.append((message, droppable))
        client.ready.set()

    def _drop(self, client: Client) -> None:
        self.detach(client)
        self.loop.create_task(client.socket.close(code=1013, message=b"too slow"))

    async def _send_loop(self, client: Client) -> None:
        try:
            while True:
                while not client.outbox:
                    client.ready.clear()
                    await client.ready.wait()
                message, _ = client.outbox.popleft()
                if isinstance(message, bytes):
                    await client.socket.send_bytes(message)
                else:
                    await client.socket.send_str(message)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            return

    async def close_all(self) -> None:
        for client in list(self.clients.values()):
            self.detach(client)
            await client.socket.close(code=1001, message=b"server stopping")
