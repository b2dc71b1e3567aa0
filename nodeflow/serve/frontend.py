"""`nodeflow serve --frontend`: ComfyUI's own web frontend, from the PyPI package comfyui-frontend-package.

The package is an optional extra (`pip install 'nodeflow[frontend]'`); without it `--frontend`
stops before listening with one line saying so. Its `static/` folder is served as files (no
directory listings, no links followed out of it), `/` is its index page, and the API routes stay
NodeFlow's: the frontend talks to the same /prompt, /ws, /object_info... as any client, through
the same token and Origin rules.

The frontend also asks for a desktop app's worth of routes (settings, user data, translations,
templates, subgraph libraries, model lists). They are answered minimally and safely: settings
live in this server's memory only (bounded, so a client cannot grow it without end), the only
user files are the workflows saved from the browser (`nodeflow.serve.userdata`: kept in the user
data folder's `workflows/`, contained by real path), and the list of front-end extensions is
empty: no route here installs, serves or runs code of anyone else's. The template browser offers
NodeFlow's own workflows on its built-in model (`TEMPLATES`, data files only), so a first visit
has a graph that runs without downloads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from nodeflow.core.errors import NodeFlowError
from nodeflow.core.paths import RESOURCES
from nodeflow.serve import userdata
from nodeflow.serve.access import BadRequest, read_json

#: Settings one server keeps (in memory): how many, their JSON size together, an id's length.
MAX_SETTINGS = 1000
MAX_SETTINGS_BYTES = 2**20
MAX_SETTING_ID = 200
SETTINGS = web.AppKey("nodeflow_frontend_settings", dict)
#: Settings a server starts with: no release notes fetched from api.comfy.org by the user's browser
#: (NodeFlow's releases are not ComfyUI's; the user may turn it on in the frontend's settings).
FIRST_SETTINGS: dict[str, Any] = {"Comfy.Notification.ShowVersionUpdates": False}
#: What the frontend's optional routes answer: nothing to list.
_EMPTY_JSON: dict[str, Any] = {"/i18n": {}, "/global_subgraphs": {},
                               "/node_replacements": {}, "/templates/index.json": [], "/templates/index_logo.json": {},
                               "/userdata/comfy.templates.json": [], "/v2/userdata": [],
                               "/experiment/models": [], "/secrets": [], "/internal/folder_paths": {}}


#: NodeFlow's own workflows for the frontend's template browser (its "Custom Nodes" templates): a
#: <name>.json saved from the frontend and a <name>.jpg picture of what it makes, under one module.
TEMPLATES = RESOURCES / "frontend_templates"
TEMPLATE_MODULE = "nodeflow"


class FrontendMissing(NodeFlowError):
    """--frontend without the comfyui-frontend-package installed."""


def static_dir() -> Path:
    """The frontend's files: the comfyui-frontend-package's static/ folder, or FrontendMissing."""
    try:
        import comfyui_frontend_package
    except ImportError:
        raise FrontendMissing("--frontend needs ComfyUI's web frontend, which is not installed: "
                              "pip install 'nodeflow[frontend]' (PyPI: comfyui-frontend-package)") from None
    folder = Path(comfyui_frontend_package.__file__).parent / "static"
    if not (folder / "index.html").is_file():
        raise FrontendMissing(f"--frontend: the comfyui-frontend-package at {folder.parent} has no static/index.html")
    return folder


def add_frontend(app: web.Application, folder: Path, workflows: Path) -> list[tuple[str, str, Any]]:
    """Serve the frontend from `folder` on `app`, its saved workflows in `workflows`; returns the
    minimal routes to add beside the API's (in order: fixed user-file names before the others)."""
    app[SETTINGS] = dict(FIRST_SETTINGS)
    app[userdata.WORKFLOWS] = workflows

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(folder / "index.html", headers={"Cache-Control": "no-cache"})

    async def user_css(request: web.Request) -> web.Response:
        return web.Response(text="", content_type="text/css")  # the user's own stylesheet: none here

    app.router.add_get("/", index)
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            app.router.add_static(f"/{entry.name}", entry, follow_symlinks=False, show_index=False)
        elif entry.is_file() and entry.name != "index.html":
            app.router.add_get(f"/{entry.name}", _file(entry))
    return [("GET", path, _constant(value)) for path, value in _EMPTY_JSON.items()] + [
        ("GET", "/user.css", user_css), ("GET", "/userdata/user.css", user_css),
        ("GET", "/users", _constant({"storage": "server", "migrated": True})),
        ("GET", "/workflow_templates", _constant({TEMPLATE_MODULE: template_names()})),
        ("GET", "/workflow_templates/{module}/{file}", get_template),
        *userdata.ROUTES,
        ("GET", "/experiment/models/{folder}", _constant([])),
        ("GET", "/settings", get_settings), ("POST", "/settings", post_settings),
        ("GET", "/settings/{id}", get_setting), ("POST", "/settings/{id}", post_setting)]


def template_names() -> list[str]:
    """The templates offered: each .json in `TEMPLATES` that has its picture beside it."""
    return sorted(p.stem for p in TEMPLATES.glob("*.json") if p.with_suffix(".jpg").is_file())


async def get_template(request: web.Request) -> web.FileResponse:
    """A template's workflow or picture, by a name from the listing only (so no path reaches elsewhere)."""
    name, _, suffix = request.match_info["file"].rpartition(".")
    if request.match_info["module"] != TEMPLATE_MODULE or suffix not in ("json", "jpg") or name not in template_names():
        raise web.HTTPNotFound()
    return web.FileResponse(TEMPLATES / f"{name}.{suffix}")


def _file(path: Path):
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path)
    return handler


def _constant(value: Any):
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(value)
    return handler


async def get_settings(request: web.Request) -> web.Response:
    return web.json_response(request.app[SETTINGS])


async def get_setting(request: web.Request) -> web.Response:
    return web.json_response(request.app[SETTINGS].get(request.match_info["id"]))


async def post_settings(request: web.Request) -> web.Response:
    body = await read_json(request, {})
    if not isinstance(body, dict):
        raise BadRequest("invalid_request", "settings must be a JSON object")
    _store(request.app[SETTINGS], body)
    return web.Response()


async def post_setting(request: web.Request) -> web.Response:
    _store(request.app[SETTINGS], {request.match_info["id"]: await read_json(request)})
    return web.Response()


def _store(settings: dict[str, Any], new: dict[str, Any]) -> None:
    if any(len(key) > MAX_SETTING_ID for key in new):
        raise BadRequest("invalid_request", f"a setting's id is longer than {MAX_SETTING_ID} characters")
    if len(settings.keys() | new.keys()) > MAX_SETTINGS:
        raise BadRequest("invalid_request", f"this server keeps at most {MAX_SETTINGS} settings")
    if len(json.dumps(settings | new)) > MAX_SETTINGS_BYTES:
        raise BadRequest("invalid_request", f"the settings would take more than {MAX_SETTINGS_BYTES // 2**10} KiB")
    settings.update(new)
