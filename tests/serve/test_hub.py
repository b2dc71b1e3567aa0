"""The websocket hub: a client that stops reading costs the server a bounded outbox, never a wait."""

from __future__ import annotations

import asyncio
import threading
import time

from nodeflow.serve.hub import OUTBOX, Hub


class StuckSocket:
    """A client whose connection never drains: every send waits forever."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed_with: int | None = None

    async def send_str(self, text: str) -> None:
        self.sent += 1
        await asyncio.Event().wait()

    send_bytes = send_str

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        self.closed_with = code


class ReadingSocket(StuckSocket):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    async def send_str(self, text: str) -> None:
        self.texts.append(text)


def test_a_stuck_client_costs_a_bounded_outbox_and_then_its_connection():
    async def scenario():
        hub = Hub(asyncio.get_running_loop())
        stuck, reader = StuckSocket(), ReadingSocket()
        hub.attach("stuck", stuck)
        hub.attach("reader", reader)
        posted = []

        def job_thread():  # the worker posts from its own thread and must never wait
            started = time.perf_counter()
            for step in range(OUTBOX * 4):
                hub.post("progress", {"value": step}, None)
            hub.post("executing", {"node": None}, "reader")
            posted.append(time.perf_counter() - started)

        hub.post("status", {}, "stuck")  # its one send hangs from now on, so the burst below fills
        while stuck.sent == 0:             # its outbox exactly, whatever the timing
            await asyncio.sleep(0.01)
        thread = threading.Thread(target=job_thread)
        thread.start()
        while thread.is_alive():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert posted[0] < 5.0
        assert stuck.sent == 1 and len(hub.clients["stuck"].outbox) == OUTBOX  # progress beyond it dropped
        # a reader keeps up with what matters (a burst may drop some progress, never the end)
        assert OUTBOX <= len(reader.texts) <= OUTBOX * 4 + 1 and '"node": null' in reader.texts[-1]
        hub.post("executed", {"node": "9"}, "stuck")  # it matters: waiting progress makes room for it
        await asyncio.sleep(0.1)
        assert list(hub.clients["stuck"].outbox) == [('{"type": "executed", "data": {"node": "9"}}', False)]
        for node in range(OUTBOX):  # an outbox full of what matters: the client is let go
            hub.post("executed", {"node": str(node)}, "stuck")
        await asyncio.sleep(0.1)
        assert "stuck" not in hub.clients and stuck.closed_with == 1013
        assert "reader" in hub.clients
        await hub.close_all()

    asyncio.run(scenario())
