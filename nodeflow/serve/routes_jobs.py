"""ComfyUI's jobs API: GET /jobs and /jobs/{id}, the queue and the history as one list of jobs.

ComfyUI's web frontend (1.30 and later) reads its queue panel, its history and its output
gallery from here rather than from /queue and /history. A job is a prompt seen from one side:
`pending` or `in_progress` while the queue holds it (the queue decides, `ServerState.waiting`),
then `completed`, `failed` or `cancelled` from its history record (an error after an
`execution_interrupted` message is a cancel). Times are milliseconds since the epoch, as in the
websocket messages. Lists are bounded by `MAX_JOBS` per page; a detail adds the outputs, the
status messages and the prompt as queued (its extra_data without credentials).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from nodeflow.serve.access import BadRequest, int_query
from nodeflow.serve.book import PromptRecord, public_extra
from nodeflow.serve.state import ServerState, state_of

routes = web.RouteTableDef()
STATUSES = ("pending", "in_progress", "completed", "failed", "cancelled")
#: Jobs one page lists at most (the frontend asks for 200).
MAX_JOBS = 1000
#: Output lists the frontend can show as a picture, a clip or a text.
PREVIEWABLE = frozenset({"images", "video", "audio", "3d", "text"})


def finished_status(record: PromptRecord) -> str:
    """A finished prompt's job status from its history record."""
    if (record.status or {}).get("status_str") == "success":
        return "completed"
    interrupted = any(kind == "execution_interrupted" for kind, _ in record.messages)
    return "cancelled" if interrupted else "failed"


def _items(record: PromptRecord) -> list[tuple[str, str, dict[str, Any]]]:
    """(node id, media type, item) for every output item the prompt wrote."""
    return [(node, media, item) for node, outputs in record.outputs.items() if isinstance(outputs, dict)
            for media, items in outputs.items() if isinstance(items, list) for item in items if isinstance(item, dict)]


def _preview(record: PromptRecord) -> dict[str, Any] | None:
    """The picture the frontend shows for a job: the first saved output, else the first previewable one."""
    shown = [(node, media, item) for node, media, item in _items(record) if media in PREVIEWABLE]
    saved = [entry for entry in shown if entry[2].get("type") == "output"]
    for node, media, item in saved or shown:
        return {**item, "nodeId": node, "mediaType": media}
    return None


def _times(record: PromptRecord) -> tuple[int | None, int | None, dict[str, Any] | None]:
    """(execution start, execution end, the error message's data) from the status messages."""
    start = end = error = None
    for kind, data in record.messages:
        if not isinstance(data, dict):
            continue
        if kind == "execution_start":
            start = data.get("timestamp")
        elif kind in ("execution_success", "execution_error", "execution_interrupted"):
            end = data.get("timestamp")
            error = data if kind == "execution_error" else error
    return start, end, error


def job(record: PromptRecord, status: str, detail: bool = False) -> dict[str, Any]:
    """One job as the frontend's schema reads it; `detail` adds outputs, messages and the prompt."""
    workflow = (record.extra_data.get("extra_pnginfo") or {}).get("workflow")
    items = _items(record)
    summary: dict[str, Any] = {
        "id": record.prompt_id, "status": status, "priority": record.number, "create_time": int(record.created * 1000),
        "outputs_count": len(items), "previewable_outputs_count": sum(media in PREVIEWABLE for _, media, _ in items),
        "workflow_id": workflow.get("id") if isinstance(workflow, dict) else None}
    if status in ("completed", "failed", "cancelled"):
        start, end, error = _times(record)
        summary.update(execution_start_time=start, execution_end_time=end, execution_error=error,
                       preview_output=_preview(record))
    if detail:
        summary.update(outputs=record.outputs, execution_status=record.status,
                       workflow={"prompt": record.prompt, "extra_data": public_extra(record.extra_data)})
    return {key: value for key, value in summary.items() if value is not None}


def all_jobs(state: ServerState, statuses: set[str]) -> list[dict[str, Any]]:
    """Every job whose status is in `statuses`, running and queued ones first, in queue order."""
    running, pending = state.waiting()
    jobs = [job(r, "in_progress") for r in running if "in_progress" in statuses]
    jobs += [job(r, "pending") for r in pending if "pending" in statuses]
    for record in state.book.finished():
        status = finished_status(record)
        if status in statuses:
            jobs.append(job(record, status))
    return jobs


def _sort_key(sort_by: str):
    if sort_by == "execution_duration":
        return lambda j: (j.get("execution_end_time") or 0) - (j.get("execution_start_time") or 0)
    return lambda j: (j["create_time"], j["priority"])


def _query(request: web.Request) -> tuple[set[str], str, bool, int, int, str | None]:
    """The list's parameters, each checked: statuses, sort field, descending?, limit, offset, workflow id."""
    asked = [s for s in request.query.get("status", "").split(",") if s]
    unknown = [s for s in asked if s not in STATUSES]
    if unknown:
        raise BadRequest("invalid_request", f"unknown job status {unknown[0]!r}; one of {', '.join(STATUSES)}")
    sort_by = request.query.get("sort_by", "created_at")
    if sort_by not in ("created_at", "execution_duration"):
        raise BadRequest("invalid_request", "sort_by must be created_at or execution_duration")
    order = request.query.get("sort_order", "desc")
    if order not in ("asc", "desc"):
        raise BadRequest("invalid_request", "sort_order must be asc or desc")
    limit, offset = int_query(request, "limit"), int_query(request, "offset") or 0
    if (limit is not None and limit < 0) or offset < 0:
        raise BadRequest("invalid_request", "limit and offset must not be negative")
    limit = MAX_JOBS if limit is None else min(limit, MAX_JOBS)
    return set(asked or STATUSES), sort_by, order == "desc", limit, offset, request.query.get("workflow_id")


@routes.get("/jobs")
async def get_jobs(request: web.Request) -> web.Response:
    statuses, sort_by, descending, limit, offset, workflow_id = _query(request)
    state = state_of(request)
    jobs = await state.blocking(all_jobs, state, statuses)
    if workflow_id:
        jobs = [j for j in jobs if j.get("workflow_id") == workflow_id]
    jobs.sort(key=_sort_key(sort_by), reverse=descending)
    page = jobs[offset:offset + limit]
    return web.json_response({"jobs": page, "pagination": {"offset": offset, "limit": limit, "total": len(jobs),
                                                           "has_more": offset + len(page) < len(jobs)}})


def _one(state: ServerState, prompt_id: str) -> dict[str, Any] | None:
    running, pending = state.waiting()
    for records, status in ((running, "in_progress"), (pending, "pending")):
        for record in records:
            if record.prompt_id == prompt_id:
                return job(record, status, detail=True)
    record = state.book.get(prompt_id)
    if record is None or record.status is None:
        return None
    return job(record, finished_status(record), detail=True)


@routes.get("/jobs/{prompt_id}")
async def get_job(request: web.Request) -> web.Response:
    state = state_of(request)
    found = await state.blocking(_one, state, request.match_info["prompt_id"])
    if found is None:
        raise web.HTTPNotFound()
    return web.json_response(found)
