"""Workflows saved from ComfyUI's web frontend (`nodeflow.serve.userdata`): the calls it makes, as it
makes them (names with %2F), in-process and fast, and hostile names refused with nothing written
outside the workflows folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodeflow.serve import userdata
from nodeflow.serve.config import MAX_JSON_BYTES, ServeConfig
from tests.serve.test_frontend_routes import frontend_app, serving

WORKFLOW = {"last_node_id": 1, "nodes": [{"id": 1, "type": "SaveImage"}], "links": [], "version": 0.4}


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """(the workflows folder, a folder beside it that nothing may reach)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    return tmp_path / "home" / "workflows", outside


@pytest.fixture
def call(folders, tmp_path: Path):
    with serving(frontend_app(ServeConfig(state_dir=tmp_path / "state", workflows_dir=folders[0]))) as client:
        yield client


def save(call, name: str, body: object = WORKFLOW, query: str = ""):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return call(f"/api/userdata/workflows%2F{name}{query}", "POST", data=data)


def test_save_list_load_as_the_frontend_does(call, folders):
    root, _ = folders
    assert call("/api/userdata?dir=workflows&recurse=true&split=false&full_info=true")[:2] == (200, [])
    status, body, _ = save(call, "first.json", query="?overwrite=true&full_info=true")
    assert status == 200 and body["path"] == "workflows/first.json" and body["size"] > 0
    assert isinstance(body["modified"], int) and isinstance(body["created"], int)
    assert save(call, "sub%2Fsecond.json")[:2] == (200, "workflows/sub/second.json")
    assert json.loads((root / "sub" / "second.json").read_text()) == WORKFLOW
    status, listed, _ = call("/api/userdata?dir=workflows&recurse=true&split=false&full_info=true")
    assert status == 200 and [entry["path"] for entry in listed] == ["first.json", "sub/second.json"]
    assert call("/userdata?dir=workflows")[1] == ["first.json"]  # not recursive unless asked
    assert call("/userdata?dir=workflows&recurse=true&split=true")[1] == [["first.json", "first.json"],
                                                                         ["sub/second.json", "sub", "second.json"]]
    assert call("/api/userdata?dir=workflows%2Fsub")[1] == ["second.json"]
    assert call("/api/userdata?dir=workflows%2Fnone")[0] == 404
    status, loaded, headers = call("/api/userdata/workflows%2Fsub%2Fsecond.json")
    assert status == 200 and loaded == WORKFLOW
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Content-Disposition"] == "attachment"
    assert call("/api/userdata/workflows%2Fmissing.json")[0] == 404


def test_overwrite_false_is_a_409_and_leaves_the_file(call, folders):
    root, _ = folders
    assert save(call, "a.json")[0] == 200
    status, body, _ = save(call, "a.json", {"changed": True}, "?overwrite=false")
    assert (status, body) == (409, "File already exists")
    assert json.loads((root / "a.json").read_text()) == WORKFLOW
    assert save(call, "a.json", {"changed": True}, "?overwrite=true")[0] == 200
    assert json.loads((root / "a.json").read_text()) == {"changed": True}


def test_move_and_delete(call, folders):
    root, _ = folders
    save(call, "a.json"), save(call, "b.json", {"b": 1})
    assert call("/api/userdata/workflows%2Fa.json/move/workflows%2Fb.json?overwrite=false", "POST")[0] == 409
    status, body, _ = call("/api/userdata/workflows%2Fa.json/move/workflows%2Fkept%2Fc.json?full_info=true", "POST")
    assert status == 200 and body["path"] == "workflows/kept/c.json"
    assert not (root / "a.json").exists() and json.loads((root / "kept" / "c.json").read_text()) == WORKFLOW
    assert call("/api/userdata/workflows%2Fgone.json/move/workflows%2Fd.json", "POST")[0] == 404
    assert call("/api/userdata/workflows%2Fb.json", "DELETE")[0] == 204
    assert not (root / "b.json").exists()
    assert call("/api/userdata/workflows%2Fb.json", "DELETE")[0] == 404


def test_other_user_files_are_answered_as_before(call, folders, tmp_path):
    assert call("/api/userdata/user.css")[:2] == (200, "")
    assert call("/api/userdata/comfy.templates.json")[1] == []
    assert call("/api/userdata?dir=subgraphs")[1] == [] and call("/api/userdata")[1] == []
    for path in ("/api/userdata/comfy.settings.json", "/api/userdata/subgraphs%2Fx.json"):
        assert call(path, "POST", data=b"{}")[0] == 400, path
        assert call(path)[0] == 404, path
    assert call("/api/userdata/workflows%2Fa.json/move/subgraphs%2Fa.json", "POST")[0] == 400
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []


HOSTILE = ["..%2F..%2Fescape.json", "%2Ftmp%2Fescape.json", "a%00b.json", "a%5C..%5Cb.json", "CON.json",
           "nul.json", "sub%2F..%2F..%2Fescape.json", ".hidden.json", "a%3Ab.json", "notes.html", "x" * 300 + ".json",
           "%2F".join(["d"] * 20) + "%2Fdeep.json"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_write_nothing_anywhere(call, folders, tmp_path, name):
    status, _, _ = save(call, name)
    assert status in (400, 404), (name, status)
    assert call(f"/api/userdata/workflows%2F{name}")[0] in (400, 404)
    assert call(f"/api/userdata/workflows%2F{name}", "DELETE")[0] in (400, 404)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_link_leading_out_is_refused_by_real_path(call, folders, tmp_path):
    root, outside = folders
    root.mkdir(parents=True)
    (outside / "secret.json").write_text('{"secret": 1}')
    (root / "out").symlink_to(outside)
    (root / "peek.json").symlink_to(outside / "secret.json")
    assert save(call, "out%2Fplanted.json")[0] == 400
    assert save(call, "out%2Fnew%2Fplanted.json")[0] == 400  # no folder made through the link either
    assert save(call, "peek.json")[0] == 400
    assert call("/api/userdata/workflows%2Fpeek.json")[0] == 400
    assert call("/api/userdata/workflows%2Fout%2Fsecret.json")[0] == 400
    assert call("/api/userdata/workflows%2Fpeek.json/move/workflows%2Fmine.json", "POST")[0] == 400
    assert call("/api/userdata?dir=workflows&recurse=true")[1] == []  # the link is not listed
    assert sorted(p.name for p in outside.rglob("*")) == ["secret.json"]
    assert (outside / "secret.json").read_text() == '{"secret": 1}'


def test_bodies_are_bounded_json(call, folders, tmp_path):
    assert save(call, "big.json", b"[" + b"0," * (MAX_JSON_BYTES // 2) + b"0]")[0] == 413
    assert save(call, "page.json", b"<script>alert(1)</script>")[0] == 400
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_folder_keeps_a_bounded_number_of_files(call, folders, monkeypatch):
    monkeypatch.setattr(userdata, "MAX_FILES", 2)
    save(call, "a.json"), save(call, "b.json")
    assert save(call, "c.json")[0] == 400
    assert save(call, "a.json", {"again": 1})[0] == 200  # replacing one is fine


def test_the_token_and_origin_rules_hold(folders, tmp_path):
    token = "t" * 24
    config = ServeConfig(state_dir=tmp_path / "state", workflows_dir=folders[0], token=token)
    with serving(frontend_app(config)) as call:
        assert save(call, "a.json")[0] == 401
        assert call("/api/userdata?dir=workflows")[0] == 401
        assert call("/api/userdata/workflows%2Fa.json", "POST", data=b"{}",
                    headers={"Authorization": f"Bearer {token}", "Origin": "http://evil.example"})[0] == 403
        assert call("/api/userdata/workflows%2Fa.json", "POST", data=b"{}",
                    headers={"Authorization": f"Bearer {token}"})[0] == 200
    assert [p.name for p in folders[0].iterdir()] == ["a.json"]
