"""The routes ComfyUI's web frontend reads, in-process and fast (no job runs): the jobs API over a
real queue and prompt book, and the minimal answers --frontend gives, behind the same guard."""

from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from nodeflow.jobs.store import JobStore, NewJob
from nodeflow.serve import frontend, routes_jobs
from nodeflow.serve.access import guard
from nodeflow.serve.book import PromptBook, PromptRecord
from nodeflow.serve.config import SERVE_BATCH, ServeConfig
from nodeflow.serve.state import STATE, ServerState

PICTURE = {"filename": "a_00001_.png", "subfolder": "", "type": "output"}


def record(prompt_id: str, number: int, status: str | None = None, end: str = "execution_success") -> PromptRecord:
    rec = PromptRecord(prompt_id, "browser", {"9": {"class_type": "SaveImage", "inputs": {}}},
                       {"extra_pnginfo": {"workflow": {"id": "wf-1"}}, "auth_token_comfy_org": "secret"}, ["9"],
                       number=number, created=1000.0 + number)
    if status is not None:
        rec.messages = [["execution_start", {"timestamp": 5}], [end, {"timestamp": 9, "node_id": "3"}]]
        rec.status = {"status_str": status, "completed": status == "success", "messages": rec.messages}
        rec.outputs = {"9": {"images": [PICTURE]}} if status == "success" else {}
    return rec


@pytest.fixture
def state(tmp_path) -> ServerState:
    """A queue with one running and one waiting prompt, and a book with three finished ones."""
    store, book = JobStore(tmp_path / "queue.db"), PromptBook(tmp_path / "prompts")
    waiting = [record("run", 4), record("wait", 5)]
    store.add(SERVE_BATCH, [NewJob(r.number, r.prompt_id, "{}", {}, str(tmp_path), key=r.prompt_id) for r in waiting])
    store.claim(SERVE_BATCH)  # the first queued one starts
    for rec in [*waiting, record("ok", 1, "success"), record("bad", 2, "error", "execution_error"),
                record("stopped", 3, "error", "execution_interrupted")]:
        book.add(rec)
    yield ServerState(ServeConfig(state_dir=tmp_path), store, book, None, None, None)
    store.close()


class Client:
    """Requests to `app` served on a free loopback port, one event loop for the client's life."""

    def __init__(self, app: web.Application):
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(app, host="127.0.0.1"), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def __call__(self, path: str, method: str = "GET", **kwargs: Any) -> tuple[int, Any, dict]:
        """(status, body as JSON, text or bytes by its Content-Type, headers)."""
        async def run() -> tuple[int, Any, dict]:
            response = await self.client.request(method, path, **kwargs)
            kind = response.headers.get("Content-Type", "")
            body = await (response.json() if "json" in kind else response.text() if kind.startswith("text/")
                          else response.read())
            return response.status, body, dict(response.headers)
        return self.loop.run_until_complete(asyncio.wait_for(run(), 60))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@contextmanager
def serving(app: web.Application):
    client = Client(app)
    try:
        yield client
    finally:
        client.close()


def jobs_app(state: ServerState) -> web.Application:
    app = web.Application(middlewares=[guard(state.config)])
    app[STATE] = state
    app.router.add_routes(routes_jobs.routes)
    return app


def test_jobs_lists_the_queue_and_the_history_as_the_frontend_reads_them(state):
    with serving(jobs_app(state)) as call:
        status, body, _ = call("/jobs?status=in_progress,pending&limit=200&offset=0")
        assert status == 200
        assert [(j["id"], j["status"]) for j in body["jobs"]] == [("wait", "pending"), ("run", "in_progress")]
        assert body["pagination"] == {"offset": 0, "limit": 200, "total": 2, "has_more": False}
        _, body, _ = call("/jobs?status=completed,failed,cancelled&limit=2&offset=0")
        assert [(j["id"], j["status"]) for j in body["jobs"]] == [("stopped", "cancelled"), ("bad", "failed")]
        assert body["pagination"] == {"offset": 0, "limit": 2, "total": 3, "has_more": True}
        done = call("/jobs?status=completed&sort_order=asc")[1]["jobs"][0]
    assert done["preview_output"] == {**PICTURE, "nodeId": "9", "mediaType": "images"}
    assert (done["outputs_count"], done["previewable_outputs_count"], done["workflow_id"]) == (1, 1, "wf-1")
    assert (done["create_time"], done["execution_start_time"], done["execution_end_time"]) == (1_001_000, 5, 9)
    assert "outputs" not in done and "workflow" not in done  # a list stays light


def test_a_job_in_detail_has_its_outputs_and_prompt_without_credentials(state):
    with serving(jobs_app(state)) as call:
        status, body, _ = call("/jobs/ok")
        assert status == 200 and body["outputs"] == {"9": {"images": [PICTURE]}}
        assert body["execution_status"]["status_str"] == "success"
        assert body["workflow"]["extra_data"] == {"extra_pnginfo": {"workflow": {"id": "wf-1"}}}
        assert call("/jobs/bad")[1]["execution_error"]["node_id"] == "3"
        assert call("/jobs/wait")[1]["status"] == "pending"
        assert call("/jobs/nobody")[0] == 404


def test_a_bad_jobs_query_is_a_400_naming_it(state):
    with serving(jobs_app(state)) as call:
        for query in ("status=done", "limit=-1", "offset=x", "sort_by=name", "sort_order=up"):
            status, body, _ = call("/jobs?" + query)
            assert status == 400 and query.split("=")[0] in body["error"]["message"], query


def test_a_page_is_bounded_and_the_newest_job_comes_first(state):
    newest = record("new", 9, "success")
    newest.created = time.time()
    state.book.add(newest)
    with serving(jobs_app(state)) as call:
        body = call(f"/jobs?limit={routes_jobs.MAX_JOBS * 10}")[1]
    assert body["pagination"]["limit"] == routes_jobs.MAX_JOBS and body["pagination"]["total"] == 6
    assert body["jobs"][0]["id"] == "new"


def frontend_app(config: ServeConfig) -> web.Application:
    app = web.Application(middlewares=[guard(config)])
    for method, path, handler in frontend.add_frontend(app, frontend.static_dir(), config.workflows_dir):
        app.router.add_route(method, path, handler)
        app.router.add_route(method, "/api" + path, handler)
    return app


def test_the_frontends_startup_reads_answer_without_a_404(tmp_path: Path):
    with serving(frontend_app(ServeConfig(state_dir=tmp_path))) as call:
        assert call("/api/userdata/user.css")[:2] == (200, "")
        assert call("/api/userdata/comfy.templates.json")[1] == []
        assert call("/templates/index_logo.json")[1] == {} and call("/internal/folder_paths")[1] == {}
        assert call("/api/userdata/workflows%2Fmine.json")[0] == 404  # no user files: none listed, none read
        # the browser is not sent to api.comfy.org for release notes unless the user turns it on
        assert call("/api/settings")[1] == {"Comfy.Notification.ShowVersionUpdates": False}


def test_the_frontends_routes_keep_the_origin_and_token_rules(tmp_path: Path):
    foreign = {"Origin": "http://evil.example"}
    with serving(frontend_app(ServeConfig(state_dir=tmp_path))) as call:
        assert call("/api/settings", headers=foreign)[0] == 403
        assert call("/api/settings/Comfy.Locale", "POST", data=b'"fr"', headers=foreign)[0] == 403
        assert call("/api/settings")[1] == {"Comfy.Notification.ShowVersionUpdates": False}
    token = "t" * 24
    with serving(frontend_app(ServeConfig(state_dir=tmp_path, token=token))) as call:
        assert call("/internal/folder_paths")[0] == 401
        assert call("/internal/folder_paths", headers={"Authorization": f"Bearer {token}"})[0] == 200


def test_the_template_browser_offers_nodeflows_own_workflows_and_nothing_else(tmp_path: Path):
    names = frontend.template_names()
    assert "tiny_shapes_text_to_image" in names
    with serving(frontend_app(ServeConfig(state_dir=tmp_path))) as call:
        assert call("/api/workflow_templates")[1] == {"nodeflow": names}
        status, workflow, _ = call("/api/workflow_templates/nodeflow/tiny_shapes_text_to_image.json")
        assert status == 200 and {n["type"] for n in workflow["nodes"]} >= {"CheckpointLoaderSimple", "SaveImage"}
        loader = next(n for n in workflow["nodes"] if n["type"] == "CheckpointLoaderSimple")
        assert loader["widgets_values"] == ["tiny-shapes"]  # the built-in model: runs without downloads
        status, _, headers = call("/api/workflow_templates/nodeflow/tiny_shapes_text_to_image.jpg")
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        for path in ("other/tiny_shapes_text_to_image.json", "nodeflow/tiny_shapes_text_to_image.py",
                     "nodeflow/..%2F..%2Fpyproject.toml", "nodeflow/%2E%2E.json", "nodeflow/missing.json"):
            assert call("/api/workflow_templates/" + path)[0] == 404, path
