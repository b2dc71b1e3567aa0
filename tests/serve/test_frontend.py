"""`nodeflow serve --frontend`: ComfyUI's web frontend (comfyui-frontend-package) from NodeFlow's
server: its index and every file the index names load, the routes it asks for answer minimally, the
API stays NodeFlow's (a browser-style prompt runs), and without the package it is one line."""

from __future__ import annotations

import json
import re
import sys

import pytest

from nodeflow.cli import main
from nodeflow.serve.frontend import MAX_SETTINGS, FrontendMissing, static_dir
from tests.serve.conftest import Server, tiny_prompt


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve_frontend")
    running = Server(root / "home", root, ("--frontend",)).start()
    yield running
    running.stop()
    running.kill()


def test_the_index_and_every_file_it_names_load(web):
    status, body, headers = web.request("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert body == (static_dir() / "index.html").read_bytes()
    named = re.findall(r'(?:src|href)="\.?/?([^"]+)"', body.decode())
    assert any(name.endswith(".js") for name in named)
    for name in named:
        status, data, headers = web.request("/" + name)
        assert status == 200, name  # the user's own stylesheet (api/userdata/user.css) too: empty here
        if name.endswith(".js"):
            assert "javascript" in headers["Content-Type"] and data, name


def test_the_routes_the_frontend_asks_for_answer_minimally(web):
    assert web.json("/api/users") == {"storage": "server", "migrated": True}
    assert web.json("/api/extensions") == [] and web.json("/api/i18n") == {}
    assert web.json("/api/userdata?dir=workflows&recurse=true") == []
    assert web.request("/api/userdata/workflows%2Fmine.json")[0] == 404
    saved = web.request("/api/userdata/workflows%2Fmine.json?overwrite=false", {"nodes": []})
    assert saved[:2] == (200, b'"workflows/mine.json"')  # kept in the user data folder given to the server
    assert json.loads((web.home / "workflows" / "mine.json").read_text()) == {"nodes": []}
    assert web.json("/api/userdata/workflows%2Fmine.json") == {"nodes": []}
    assert web.request("/api/userdata/comfy.settings.json", {"nodes": []})[0] == 400  # only workflows kept
    first = {"Comfy.Notification.ShowVersionUpdates": False}
    assert web.json("/api/settings") == first
    assert web.request("/api/settings/Comfy.Locale", b'"fr"')[0] == 200
    assert web.request("/api/settings", {"Comfy.ColorPalette": "light"})[0] == 200
    assert web.json("/api/settings") == {**first, "Comfy.Locale": "fr", "Comfy.ColorPalette": "light"}
    assert web.json("/api/settings/Comfy.Locale") == "fr"
    many = {f"s{n}": n for n in range(MAX_SETTINGS + 1)}
    assert web.request("/api/settings", many)[0] == 400 and len(web.json("/api/settings")) == 3


def test_the_api_stays_nodeflows_and_a_browser_page_of_the_server_queues_a_prompt(web):
    info = web.json("/api/object_info")
    assert "KSampler" in info and "CheckpointLoaderSimple" in info
    own = {"Origin": web.url}
    status, body, _ = web.request("/api/prompt", {"prompt": tiny_prompt(), "client_id": "browser"}, headers=own)
    assert status == 200, body
    prompt_id = json.loads(body)["prompt_id"]
    assert web.wait_history(prompt_id)["status"]["status_str"] == "success"
    assert web.request("/api/prompt", {"prompt": tiny_prompt()}, headers={"Origin": "http://evil.example"})[0] == 403


def test_files_outside_the_frontend_folder_are_not_served(web, tmp_path):
    for path in ("/assets/../../__init__.py", "/assets/%2e%2e/%2e%2e/__init__.py", "/assets/", "/scripts/"):
        assert web.request(path)[0] in (403, 404), path


def test_without_the_package_it_is_one_line_before_listening(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "comfyui_frontend_package", None)  # import fails as if not installed
    with pytest.raises(FrontendMissing, match=r"pip install 'nodeflow\[frontend\]'"):
        static_dir()
    assert main(["serve", "--frontend", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "comfyui-frontend-package" in err
