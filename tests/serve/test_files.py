"""/view and uploads stay inside their folders: names, '..', absolute paths, NUL, symlinks, sizes."""

from __future__ import annotations

import json
import os
import urllib.error
from pathlib import Path

import pytest

from nodeflow.serve.config import ServeConfig
from nodeflow.serve.files import Refused, contained, save_upload
from tests.serve.conftest import multipart, png_bytes


def upload(server, data: bytes, filename: str, path: str = "/upload/image", headers=None, **fields):
    body, content_type = multipart({k: str(v) for k, v in fields.items()}, {"image": (filename, data)})
    return server.request(path, body, {"Content-Type": content_type, **(headers or {})})


# -- the containment rule itself (no server) ------------------------------------------------------

def test_contained_names_stay_inside_the_folder_symlinks_resolved(tmp_path):
    root, outside = tmp_path / "out", tmp_path / "secret"
    root.mkdir()
    outside.mkdir()
    (outside / "key.png").write_bytes(b"secret")
    (root / "pic.png").write_bytes(b"ok")
    (root / "link_out").symlink_to(outside)
    (root / "link_file.png").symlink_to(outside / "key.png")
    (root / "sub").mkdir()
    (root / "sub" / "link_in.png").symlink_to(root / "pic.png")
    assert contained(root, "", "pic.png") == (root / "pic.png").resolve()
    assert contained(root, "sub", "link_in.png") == (root / "pic.png").resolve()  # a link that stays inside
    for subfolder, filename in [("", "../secret/key.png"), ("..", "secret"), ("", "/etc/passwd"),
                                ("/etc", "passwd"), ("link_out", "key.png"), ("", "link_file.png"),
                                ("", "a\x00.png"), ("sub/../..", "x.png"), ("", ""), ("", "sub/../pic.png"),
                                ("", "..\\secret\\key.png"), ("~", "x.png")]:
        with pytest.raises(Refused):
            contained(root, subfolder, filename)


def test_an_upload_never_replaces_another_picture_unless_asked(tmp_path):
    config = ServeConfig(input_dir=tmp_path / "in", state_dir=tmp_path / "state")
    red, blue = png_bytes(color=(255, 0, 0, 255)), png_bytes(color=(0, 0, 255, 255))
    assert save_upload(config, red, "pic.png", None, "", False).name == "pic.png"
    assert save_upload(config, red, "pic.png", None, "", False).name == "pic.png"  # same bytes: same file
    assert save_upload(config, blue, "pic.png", None, "", False).name == "pic (1).png"
    assert save_upload(config, blue, "pic.png", "input", "", True).name == "pic.png"
    assert (tmp_path / "in" / "pic.png").read_bytes() == blue
    assert (tmp_path / "in" / "pic (1).png").read_bytes() == blue
    with pytest.raises(Refused):
        save_upload(config, b"<svg onload=alert(1)>", "x.png", None, "", False)
    with pytest.raises(Refused):
        save_upload(config, red, "../x.png", None, "", False)
    with pytest.raises(Refused):
        save_upload(config, red, "x.png", "settings", "", False)


def test_a_picture_over_the_pixel_budget_is_refused_before_decoding(tmp_path, monkeypatch):
    import nodeflow.serve.files as files

    monkeypatch.setattr(files, "MAX_UPLOAD_PIXELS", 32 * 32 - 1)
    config = ServeConfig(input_dir=tmp_path / "in", state_dir=tmp_path / "state")
    with pytest.raises(Refused, match="budget"):
        save_upload(config, png_bytes((32, 32)), "big.png", None, "", False)


# -- through the server -------------------------------------------------------------------------

def test_view_refuses_every_way_out_of_the_output_folder(server, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes())
    server.out.mkdir(parents=True, exist_ok=True)
    (server.out / "inside.png").write_bytes(png_bytes())
    link = server.out / "escape.png"
    if not link.exists():
        link.symlink_to(secret)
    assert server.request("/view?filename=inside.png&type=output")[0] == 200
    bad = ["filename=escape.png", f"filename={secret}", "filename=..%2Fserve%2Fsecret.png",
           "filename=secret.png&subfolder=..", "filename=a%00.png", f"filename=secret.png&subfolder={tmp_path}",
           "filename=inside.png&type=settings", "filename=", "filename=inside.png&subfolder=%2F"]
    for query in bad:
        status, body, _ = server.request(f"/api/view?{query}")
        assert status in (400, 404), (query, status)
        assert body != png_bytes()
    assert server.request("/view?filename=missing.png")[0] == 404


def test_view_serves_active_content_as_a_download(server):
    server.out.mkdir(parents=True, exist_ok=True)
    (server.out / "page.html").write_text("<script>alert(1)</script>")
    status, _, headers = server.request("/view?filename=page.html")
    assert status == 200 and headers["Content-Disposition"].startswith("attachment")
    assert headers["X-Content-Type-Options"] == "nosniff" and "html" not in headers["Content-Type"]


def test_uploads_through_the_api(server):
    status, body, _ = upload(server, png_bytes(), "up.png", path="/api/upload/image", type="input", overwrite="false")
    assert status == 200 and json.loads(body) == {"name": "up.png", "subfolder": "", "type": "input"}
    status, body, _ = upload(server, png_bytes(color=(1, 2, 3, 255)), "up.png")
    assert json.loads(body)["name"] == "up (1).png"
    status, body, _ = upload(server, png_bytes(), "up.png", subfolder="masks")
    assert json.loads(body) == {"name": "up.png", "subfolder": "masks", "type": "input"}
    assert (server.input_dir / "masks" / "up.png").is_file()
    for name, fields in [("../evil.png", {}), ("ok.png", {"subfolder": "../.."}), ("ok.png", {"subfolder": "/tmp"}),
                         ("ok.png", {"type": "settings"})]:
        assert upload(server, png_bytes(), name, **fields)[0] == 400, (name, fields)
    assert upload(server, b"not a picture", "x.png")[0] == 400
    status, _, _ = server.request("/upload/image", b"x" * 100, {"Content-Type": "text/plain"})
    assert status == 400
    info = server.json("/object_info/LoadImage")
    assert "up.png" in info["LoadImage"]["input"]["required"]["image"][0]


def test_a_mask_upload_puts_its_alpha_into_the_original(server):
    from io import BytesIO

    from PIL import Image

    upload(server, png_bytes(color=(200, 10, 10, 255)), "face.png", overwrite="true")
    ref = json.dumps({"filename": "face.png", "subfolder": "", "type": "input"})
    status, body, _ = upload(server, png_bytes(color=(0, 0, 0, 0)), "face_mask.png", path="/upload/mask",
                             original_ref=ref, overwrite="true")
    assert status == 200
    merged = Image.open(BytesIO((server.input_dir / json.loads(body)["name"]).read_bytes()))
    assert merged.mode == "RGBA" and merged.getpixel((0, 0)) == (200, 10, 10, 0)
    bad_ref = json.dumps({"filename": "../../etc/passwd", "subfolder": "", "type": "input"})
    assert upload(server, png_bytes(), "m.png", path="/upload/mask", original_ref=bad_ref)[0] == 400


def test_request_bodies_are_bounded(server):
    padded = b'{"prompt": {}' + b" " * (3 * 2**20) + b"}"  # big but allowed: read whole, then parsed
    status, body, _ = server.request("/prompt", padded)
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_prompt"
    status, _, _ = server.request("/prompt", b"{" + b" " * (9 * 2**20) + b"}")
    assert status == 413
    big = os.urandom(40 * 2**20)
    try:
        status = upload(server, big, "big.png")[0]
    except (ConnectionError, urllib.error.URLError):  # refused while the client was still sending
        status = 413
    assert status == 413


def test_host_and_origin_are_checked(server):
    port = server.url.rsplit(":", 1)[1]
    assert server.request("/prompt", headers={"Origin": f"http://127.0.0.1:{port}"})[0] == 200
    for origin in ("http://evil.example", "null", f"http://evil.example:{port}"):
        status, _, _ = server.request("/prompt", {"prompt": {}}, headers={"Origin": origin})
        assert status == 403, origin
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host and Origin
    rebound = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    assert server.request("/queue", headers=rebound)[0] == 403
    assert Path(server.root).is_dir()


def test_view_previews_and_channels(server):
    from io import BytesIO

    from PIL import Image

    server.out.mkdir(parents=True, exist_ok=True)
    (server.out / "alpha.png").write_bytes(png_bytes(color=(10, 20, 30, 128)))
    status, data, headers = server.request("/view?filename=alpha.png&preview=webp;50")
    assert status == 200 and headers["Content-Type"] == "image/webp" and Image.open(BytesIO(data)).format == "WEBP"
    status, data, _ = server.request("/view?filename=alpha.png&channel=a")
    assert status == 200 and Image.open(BytesIO(data)).getpixel((0, 0)) == 128
    status, data, _ = server.request("/view?filename=alpha.png&channel=rgb")
    assert Image.open(BytesIO(data)).mode == "RGB"
    assert server.request("/view?filename=alpha.png&preview=gif")[0] == 400
    assert server.request("/view?filename=alpha.png&channel=cmyk")[0] == 400
