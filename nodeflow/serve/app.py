"""The aiohttp application and its life: start the queue, book and job thread; stop them cleanly.

Every route is served twice, as `/x` and `/api/x`, as ComfyUI does. Stopping (SIGTERM, Ctrl+C)
closes the sockets, cancels the running job (the queue takes it back, so the next start runs it)
and waits for the job thread; a server killed outright leaves its jobs marked running by a dead
process, which the queue requeues when it is next opened.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
from collections.abc import Callable

from aiohttp import web

from nodeflow.core.registry import default_registry
from nodeflow.jobs.store import JobStore
from nodeflow.serve import frontend, routes_files, routes_info, routes_jobs, routes_prompt
from nodeflow.serve.access import guard
from nodeflow.serve.book import PromptBook
from nodeflow.serve.config import MAX_UPLOAD_BYTES, ServeConfig, check_exposure
from nodeflow.serve.hub import Hub
from nodeflow.serve.state import STATE, ServerState
from nodeflow.serve.worker import Worker

log = logging.getLogger(__name__)
#: Seconds a stop waits for the running job to reach a step where it can be cancelled.
STOP_WAIT = 120.0


def make_app(config: ServeConfig, store: JobStore | None = None) -> web.Application:
    """The application; its queue, book and job thread start with it and stop with it."""
    check_exposure(config)
    static = frontend.static_dir() if config.frontend else None  # missing: one line, before listening
    app = web.Application(middlewares=[guard(config)], client_max_size=MAX_UPLOAD_BYTES + 2**20)
    routes = [(r.method, r.path, r.handler) for table in (routes_prompt.routes, routes_jobs.routes, routes_files.routes,
                                                          routes_info.routes) for r in table]
    if static is not None:
        routes += frontend.add_frontend(app, static, config.workflows_dir)
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
        app.router.add_route(method, "/api" + path, handler)

    async def start(app: web.Application) -> None:
        for folder in (config.out, config.input_dir, config.prompts_dir):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(config.temp_dir, ignore_errors=True)  # previews of an earlier run, as ComfyUI does
        queue = store or JobStore()
        book = PromptBook(config.prompts_dir)
        await asyncio.to_thread(book.load, queue)
        hub = Hub(asyncio.get_running_loop())
        worker = await asyncio.to_thread(Worker, config, queue, book, hub)
        await asyncio.to_thread(worker.open)
        app[STATE] = ServerState(config, queue, book, await asyncio.to_thread(default_registry), hub, worker)
        worker.start()

    async def stop(app: web.Application) -> None:
        state = app[STATE]
        await state.hub.close_all()
        if not await asyncio.to_thread(state.worker.stop, STOP_WAIT):
            log.warning("the running job did not stop in %ss; it is queued again at the next start", STOP_WAIT)
        if store is None:
            state.store.close()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    return app


async def serve(config: ServeConfig, announce: Callable[[str], None] = print) -> None:
    """Listen until SIGTERM or SIGINT; `announce` gets the line naming the address (port 0 picks one)."""
    runner = web.AppRunner(make_app(config), handle_signals=False, access_log=None)
    await runner.setup()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        announce(f"nodeflow serve: listening on http://{host}:{port}" +
                 (" (token required)" if config.token else ""))
        await stopping.wait()
        announce("nodeflow serve: stopping (the running job, if any, goes back to the queue)")
    finally:
        await runner.cleanup()
