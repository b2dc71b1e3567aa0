"""The Server menu starts `nodeflow serve` beside the editor and stops it; the status bar follows."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from nodeflow.gui.server_menu import ServerControl, install


def test_the_server_menu_starts_and_stops_the_api_server(qtbot, window, tmp_path):
    control = install(window)
    control.port, control.folder = 0, tmp_path / "serve"  # a free port, a private folder
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Server")
    start, network, stop = menu.actions()
    assert start.isEnabled() and not stop.isEnabled()
    start.trigger()
    qtbot.waitUntil(lambda: control.url is not None, timeout=120_000)
    assert not start.isEnabled() and stop.isEnabled() and control.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(control.url + "/prompt", timeout=30) as response:
        assert json.loads(response.read()) == {"exec_info": {"queue_remaining": 0}}
    assert window.server_status.text() == f"API server: {control.url}"
    stop.trigger()
    qtbot.waitUntil(lambda: not control.running, timeout=150_000)
    assert start.isEnabled() and not stop.isEnabled() and window.server_status.text() == "API server: off"


def test_a_server_with_a_token_gets_it_in_a_file_only_the_user_can_read(qtbot, tmp_path):
    control = ServerControl(port=0, folder=tmp_path / "serve")
    token = control.start("127.0.0.1", with_token=True)  # what "on the network" does, kept on loopback
    try:
        assert token and len(token) >= 24
        token_file = tmp_path / "serve" / "token"
        assert token_file.read_text().strip() == token and token_file.stat().st_mode & 0o077 == 0
        qtbot.waitUntil(lambda: control.url is not None, timeout=120_000)
        request = urllib.request.Request(control.url + "/prompt")
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError("served without the token")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
        request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
    finally:
        control.shutdown()
    assert not control.running
