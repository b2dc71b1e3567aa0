"""The queue side of ComfyUI's API: /prompt, /queue, /interrupt, /history, /free, and the /ws socket."""

from __future__ import annotations

import uuid

from aiohttp import WSMsgType, web

from nodeflow.core.errors import NodeFlowError
from nodeflow.serve.access import BadRequest, int_query, read_json
from nodeflow.serve.config import MAX_CLIENTS, MAX_UPLOAD_BYTES, MAX_WS_MESSAGE, SERVE_BATCH
from nodeflow.serve.prompts import submit
from nodeflow.serve.state import state_of

routes = web.RouteTableDef()


@routes.post("/prompt")
async def post_prompt(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await read_json(request)
    record = await state.blocking(submit, body, state.config, state.store, state.book, state.registry)
    state.worker.wake.set()
    state.hub.post("status", {"status": await state.blocking(state.status)})
    return web.json_response({"prompt_id": record.prompt_id, "number": record.number, "node_errors": {}})


@routes.get("/prompt")
async def get_prompt(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response(await state.blocking(state.status))


def _queue(state) -> dict:
    running, pending = state.waiting()
    return {"queue_running": [r.queue_item() for r in running], "queue_pending": [r.queue_item() for r in pending]}


@routes.get("/queue")
async def get_queue(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response(await state.blocking(_queue, state))


def _cancel_queued(state, prompt_ids: list[str] | None) -> None:
    """Delete queued prompts (all of them with None); a running one is left to /interrupt."""
    for job in state.store.jobs(SERVE_BATCH, ["queued"]):
        if prompt_ids is None or job.key in prompt_ids:
            try:
                state.store.cancel(job.id)
            except NodeFlowError:  # it started or ended meanwhile
                continue
            state.book.forget(job.key or "")  # as in ComfyUI: a deleted prompt leaves no history


@routes.post("/queue")
async def post_queue(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await read_json(request, {})
    if not isinstance(body, dict):
        raise BadRequest("invalid_request", "the body must be a JSON object {clear?, delete?}")
    if body.get("clear"):
        await state.blocking(_cancel_queued, state, None)
    if isinstance(body.get("delete"), list):
        await state.blocking(_cancel_queued, state, [str(i) for i in body["delete"]])
    state.hub.post("status", {"status": await state.blocking(state.status)})
    return web.Response(status=200)


def _interrupt(state, prompt_id: str | None) -> None:
    for job in state.store.jobs(SERVE_BATCH, ["running"]):
        if prompt_id is None or job.key == prompt_id:
            try:
                state.store.cancel(job.id)  # the runner's watcher stops it at the next step
            except NodeFlowError:
                continue


@routes.post("/interrupt")
async def post_interrupt(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await read_json(request, {})
    prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
    await state.blocking(_interrupt, state, prompt_id if isinstance(prompt_id, str) else None)
    return web.Response(status=200)


@routes.get("/history")
async def get_history(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response(state.book.history(int_query(request, "max_items"),
                                                int_query(request, "offset") or 0))


@routes.get("/history/{prompt_id}")
async def get_history_one(request: web.Request) -> web.Response:
    record = state_of(request).book.get(request.match_info["prompt_id"])
    if record is None or record.status is None:
        return web.json_response({})
    return web.json_response({record.prompt_id: record.history()})


@routes.post("/history")
async def post_history(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await read_json(request, {})
    if not isinstance(body, dict):
        raise BadRequest("invalid_request", "the body must be a JSON object {clear?, delete?}")
    if body.get("clear"):
        await state.blocking(state.book.clear)
    if isinstance(body.get("delete"), list):
        await state.blocking(state.book.delete, [str(i) for i in body["delete"]])
    return web.Response(status=200)


@routes.post("/free")
async def post_free(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await read_json(request, {})
    if isinstance(body, dict) and (body.get("unload_models") or body.get("free_memory")):
        state.worker.free_requested = True  # done between jobs, never under a running one
        state.worker.wake.set()
    return web.Response(status=200)


@routes.get("/features")
async def get_features(request: web.Request) -> web.Response:
    return web.json_response({"supports_preview_metadata": False, "max_upload_size": MAX_UPLOAD_BYTES})


@routes.get("/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    state = state_of(request)
    sid = request.query.get("clientId") or uuid.uuid4().hex
    if len(state.hub.clients) >= MAX_CLIENTS and sid not in state.hub.clients:
        raise web.HTTPServiceUnavailable(text=f"{MAX_CLIENTS} websocket clients are connected already")
    socket = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE, heartbeat=30.0)
    await socket.prepare(request)
    client = state.hub.attach(sid, socket)
    state.hub.send_now(client, "status", {"status": await state.blocking(state.status), "sid": sid})
    running = state.worker.running_for(sid)
    if running is not None:
        state.hub.send_now(client, "executing", {"node": running.translator.current,
                                                 "prompt_id": running.record.prompt_id})
    first = True
    try:
        async for message in socket:
            if message.type == WSMsgType.TEXT and first:
                try:
                    kind = message.json().get("type")
                except (ValueError, AttributeError):
                    kind = None
                if kind == "feature_flags":
                    state.hub.send_now(client, "feature_flags", {"supports_preview_metadata": False,
                                                                 "max_upload_size": MAX_UPLOAD_BYTES})
            first = False
    finally:
        state.hub.detach(client)
    return socket
