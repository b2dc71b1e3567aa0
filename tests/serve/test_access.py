"""Secure by default: loopback without a token, a token everywhere else, on every route and the socket."""

from __future__ import annotations

import json
import uuid

import pytest
import websocket

from nodeflow.cli import main
from nodeflow.serve.access import authorized, origin_allowed
from nodeflow.serve.config import ExposureError, ServeConfig, check_exposure
from tests.serve.conftest import TOKEN, basic, multipart, png_bytes, tiny_prompt
from tests.serve.test_flow import run_like_websockets_example

BEARER = {"Authorization": f"Bearer {TOKEN}"}


def test_listening_beyond_loopback_needs_a_token(tmp_path, capsys):
    check_exposure(ServeConfig(host="127.0.0.1"))
    check_exposure(ServeConfig(host="::1"))
    check_exposure(ServeConfig(host="0.0.0.0", token=TOKEN))
    for host in ("0.0.0.0", "::", "192.168.1.5", "myhost.example"):
        with pytest.raises(ExposureError, match="token"):
            check_exposure(ServeConfig(host=host))
    with pytest.raises(ExposureError, match="16 characters"):
        check_exposure(ServeConfig(host="0.0.0.0", token="short"))
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2  # refused before listening
    assert "--token" in capsys.readouterr().err
    empty = tmp_path / "token"
    empty.write_text("\n")
    assert main(["serve", "--host", "0.0.0.0", "--token-file", str(empty)]) == 2


def test_authorization_headers():
    assert authorized(f"Bearer {TOKEN}", TOKEN) and authorized(basic("anyone", TOKEN), TOKEN)
    for header in (None, "", f"Bearer {TOKEN}x", "Bearer", basic(TOKEN, ""), "Basic !!!", f"Token {TOKEN}"):
        assert not authorized(header, TOKEN), header
    assert origin_allowed("http://127.0.0.1:8188", "127.0.0.1:8188", ())
    assert not origin_allowed("http://127.0.0.1:8189", "127.0.0.1:8188", ())
    assert origin_allowed("http://localhost:3000", "127.0.0.1:8188", ("http://localhost:3000",))


def test_every_route_and_the_socket_refuse_a_missing_or_wrong_token(token_server):
    for path in ("/prompt", "/api/object_info", "/history", "/view?filename=x.png", "/system_stats", "/queue"):
        assert token_server.request(path)[0] == 401, path
        assert token_server.request(path, headers={"Authorization": "Bearer wrong-token-wrong-token"})[0] == 401
    status, _, headers = token_server.request("/prompt", {"prompt": tiny_prompt()})
    assert status == 401 and "Basic" in headers["WWW-Authenticate"]
    assert token_server.json("/queue", headers=BEARER) == {"queue_running": [], "queue_pending": []}
    assert token_server.json("/queue", headers={"Authorization": basic("me", TOKEN)})["queue_pending"] == []
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(f"{token_server.ws_url}?clientId=x", timeout=30)
    ws = websocket.create_connection(f"{token_server.ws_url}?clientId=x", timeout=30,
                                     header=[f"Authorization: Bearer {TOKEN}"])
    assert json.loads(ws.recv())["type"] == "status"
    ws.close()


def test_open_webui_flow(token_server):
    """open-webui: /object_info for the model list, then an edit: /api/upload/image, a prompt that
    loads it, the socket until `executing` null, /history and /view (Bearer on every call)."""
    info = token_server.json("/object_info", headers=BEARER)
    assert "tiny-shapes" in info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]
    body, content_type = multipart({"type": "input", "overwrite": "true"}, {"image": ("edit me.png", png_bytes())})
    status, answer, _ = token_server.request("/api/upload/image", body, {"Content-Type": content_type, **BEARER})
    assert status == 200
    name = json.loads(answer)["name"]
    prompt = tiny_prompt(seed=5)
    prompt["5"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}}
    prompt["10"] = {"class_type": "LoadImage", "inputs": {"image": name}}
    prompt["3"]["inputs"]["denoise"] = 0.5
    prompt["12"] = {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
    client_id = uuid.uuid4().hex
    ws = websocket.create_connection(f"{token_server.ws_url}?clientId={client_id}", timeout=240,
                                     header=[f"Authorization: Bearer {TOKEN}"])
    try:
        sent = token_server.json("/prompt", {"prompt": prompt, "client_id": client_id}, headers=BEARER)
        while True:
            message = ws.recv()
            if isinstance(message, str):
                data = json.loads(message)
                if data["type"] == "executing" and data["data"]["node"] is None:
                    break
    finally:
        ws.close()
    history = token_server.json(f"/history/{sent['prompt_id']}", headers=BEARER)[sent["prompt_id"]]
    assert history["status"]["status_str"] == "success"
    images = {node: out["images"] for node, out in history["outputs"].items()}
    assert images["9"][0]["type"] == "output" and images["12"][0]["type"] == "temp"
    for image in images["9"] + images["12"]:
        query = f"/view?filename={image['filename']}&subfolder={image['subfolder']}&type={image['type']}"
        status, data, _ = token_server.request(query, headers=BEARER)
        assert status == 200 and data.startswith(b"\x89PNG")
        assert token_server.request(query)[0] == 401


def test_the_websockets_example_needs_the_token_too(token_server):
    with pytest.raises(websocket.WebSocketBadStatusException):
        run_like_websockets_example(token_server, tiny_prompt())
