"""Fetching models: resume, verify, refuse what is not a model, never leave a partial file in a model folder.

Every test serves its files from `ModelServer` on 127.0.0.1 and passes `allow_local` (or types the
URL), as the brief for hostile sources asks; one test checks that without it loopback is refused.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save

from nodeflow.core.paths import user_dir, user_models_dir
from nodeflow.library import HashIndex
from nodeflow.library.addresses import FetchRefused, is_public
from nodeflow.library.download import Options, _hf_token, html_hint
from nodeflow.library.fetch import Wanted, fetch_all, fetch_model
from tests.library.model_server import ModelServer, Route


def weights(seed: int = 0, n: int = 4096) -> bytes:
    return save({"w": np.random.default_rng(seed).standard_normal(n).astype(np.float32)})


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def server():
    with ModelServer() as running:
        yield running


@pytest.fixture
def index(tmp_path):
    return HashIndex(tmp_path / "index.sqlite")


LOCAL = Options(allow_local=True, timeout=5)


def test_fetch_verifies_sha256_places_the_file_and_reports_progress(server, index):
    data = weights()
    server.routes["/files/style.safetensors"] = Route(data)
    seen = []
    options = Options(allow_local=True, timeout=5, on_progress=seen.append)
    done = fetch_model(Wanted("loras", server.url("/files/style.safetensors"), sha256=sha(data)), index, options)
    target = user_models_dir() / "loras" / "style.safetensors"
    assert done.path == target and done.verified and "sha256 verified" in done.line
    assert target.read_bytes() == data
    assert seen[-1].done == seen[-1].total == len(data) and seen[-1].rate > 0
    assert index.known(target) == f"sha256:{sha(data)}"
    assert index.source(f"sha256:{sha(data)}") == server.url("/files/style.safetensors")
    assert files_in(user_dir() / "downloads") == []


def test_without_a_hash_the_line_says_unverified(server, index):
    data = weights(1)
    server.routes["/a.safetensors"] = Route(data)
    done = fetch_model(Wanted("vae", server.url("/a.safetensors")), index, LOCAL)
    assert not done.verified and f"not verified: no sha256 was recorded; its sha256 is {sha(data)}" in done.line


def test_a_connection_dropped_mid_body_resumes_with_a_range_request(server, index):
    data = weights(2, 50_000)
    route = server.routes["/big.safetensors"] = Route(data, drop_after=70_000, drops=2)
    done = fetch_model(Wanted("checkpoints", server.url("/big.safetensors"), sha256=sha(data)), index, LOCAL)
    assert done.path.read_bytes() == data
    assert [r.get("Range") for r in route.requests] == [None, "bytes=70000-", "bytes=140000-"]


def test_an_interrupted_download_resumes_on_the_next_run_and_nothing_lands_before(server, index):
    data = weights(3, 50_000)
    first = server.routes["/m.safetensors"] = Route(data, drop_after=50_000, drops=1)
    wanted = Wanted("checkpoints", server.url("/m.safetensors"), sha256=sha(data))

    def server_breaks(_transfer):  # after the first bytes every reconnect gets headers and no body
        server.routes["/m.safetensors"] = Route(data, drop_after=0, drops=100)

    with pytest.raises(FetchRefused, match="failed 4 times in a row .* resume at 50000 bytes"):
        fetch_model(wanted, index, Options(allow_local=True, timeout=5, on_progress=server_breaks))
    assert files_in(user_models_dir()) == []
    assert len(files_in(user_dir() / "downloads")) == 1
    again = server.routes["/m.safetensors"] = Route(data)
    done = fetch_model(wanted, index, LOCAL)
    assert done.path.read_bytes() == data
    assert first.requests[0].get("Range") is None and again.requests[0]["Range"] == "bytes=50000-"


def test_a_server_that_ignores_ranges_starts_the_file_over(server, index):
    data = weights(4, 30_000)
    server.routes["/r.safetensors"] = Route(data, ranges=False, drop_after=40_000, drops=1)
    done = fetch_model(Wanted("loras", server.url("/r.safetensors"), sha256=sha(data)), index, LOCAL)
    assert done.path.read_bytes() == data


def test_a_wrong_hash_is_refused_and_nothing_is_kept(server, index):
    server.routes["/x.safetensors"] = Route(weights(5))
    with pytest.raises(FetchRefused, match="sha256 mismatch: expected 0{64}, got"):
        fetch_model(Wanted("loras", server.url("/x.safetensors"), sha256="0" * 64), index, LOCAL)
    assert files_in(user_models_dir()) == [] and files_in(user_dir() / "downloads") == []


def test_a_safetensors_header_bounds_a_download_of_unknown_size(server, index):
    data = weights(6)
    # no Content-Length, the body stops 100 bytes short: the header's size says to resume, not to end
    dropped = server.routes["/short.safetensors"] = Route(data, announce=False, drop_after=len(data) - 100, drops=1)
    done = fetch_model(Wanted("loras", server.url("/short.safetensors")), index, LOCAL)
    assert done.path.read_bytes() == data and dropped.requests[1]["Range"] == f"bytes={len(data) - 100}-"
    server.routes["/truncated.safetensors"] = Route(data[:-100], announce=False)  # the server's file is cut
    with pytest.raises(FetchRefused, match=f"damaged: its tensors need {len(data)} bytes but the file has"):
        fetch_model(Wanted("loras", server.url("/truncated.safetensors")), index, LOCAL)
    server.routes["/padded.safetensors"] = Route(data + b"\0" * 100)  # announced, but more than the header says
    # refused when the header arrives, or when the bytes past it do (how the body is split decides which)
    with pytest.raises(FetchRefused, match=f"header says {len(data)} bytes but {len(data) + 100} were expected|"
                                           f"more than the {len(data)} bytes"):
        fetch_model(Wanted("loras", server.url("/padded.safetensors")), index, LOCAL)
    server.routes["/endless.safetensors"] = Route(data, endless=True)  # no size anywhere: the header bounds it
    with pytest.raises(FetchRefused, match=f"more than the {len(data)} bytes"):
        fetch_model(Wanted("loras", server.url("/endless.safetensors")), index, LOCAL)
    server.routes["/cut.safetensors"] = Route(data[:-100])  # announced as short: the header says it is cut
    with pytest.raises(FetchRefused, match=f"header says {len(data)} bytes but {len(data) - 100} were expected"):
        fetch_model(Wanted("loras", server.url("/cut.safetensors")), index, LOCAL)
    assert files_in(user_models_dir()) == ["loras/short.safetensors"] and files_in(user_dir() / "downloads") == []


def test_a_server_that_sends_nothing_is_given_up_after_the_timeout(server, index):
    server.routes["/hang.safetensors"] = Route(weights(), stall=5)
    began = time.monotonic()
    with pytest.raises(FetchRefused, match="sent nothing for 1 seconds; run the command again"):
        fetch_model(Wanted("loras", server.url("/hang.safetensors")), index, Options(allow_local=True, timeout=1))
    assert time.monotonic() - began < 4


def test_a_download_never_fills_the_disk(server, index, monkeypatch):
    import shutil

    from nodeflow.library import download

    server.routes["/w.safetensors"] = Route(weights())
    monkeypatch.setattr(download.shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(1, 1, 100 * 2**20))
    with pytest.raises(FetchRefused, match="not enough disk space .* 100 MiB free"):
        fetch_model(Wanted("loras", server.url("/w.safetensors")), index, LOCAL)
    assert files_in(user_models_dir()) == []


def test_an_html_page_is_refused_with_the_resolve_link(server, index):
    page = b"<!DOCTYPE html><html><head><title>model</title></head><body>" + b"x" * 5000 + b"</body></html>"
    server.routes["/org/m/blob/main/m.safetensors"] = Route(page, content_type="text/html; charset=utf-8")
    server.routes["/sneaky.safetensors"] = Route(page)  # served as octet-stream: the bytes tell
    with pytest.raises(FetchRefused, match="is a web page, not a model file"):
        fetch_model(Wanted("checkpoints", server.url("/org/m/blob/main/m.safetensors")), index, LOCAL)
    with pytest.raises(FetchRefused, match="is a web page, not a model file"):
        fetch_model(Wanted("checkpoints", server.url("/sneaky.safetensors")), index, LOCAL)
    assert files_in(user_models_dir()) == [] and files_in(user_dir() / "downloads") == []
    hint = html_hint("https://huggingface.co/org/m/blob/main/m.safetensors")
    assert hint.startswith("use the download link https://huggingface.co/org/m/resolve/main/m.safetensors")


def test_a_pickle_is_refused_unless_allowed(server, index):
    pickle = b"PK\x03\x04" + b"\0" * 2000  # what torch.save writes: a zip around a pickle
    server.routes["/old.ckpt"] = Route(pickle)
    with pytest.raises(FetchRefused, match="is a pickle.*--allow-pickle accepts it"):
        fetch_model(Wanted("checkpoints", server.url("/old.ckpt")), index, LOCAL)
    assert files_in(user_models_dir()) == []
    done = fetch_model(Wanted("checkpoints", server.url("/old.ckpt")), index,
                       Options(allow_local=True, allow_pickle=True, timeout=5))
    assert done.path.name == "old.ckpt" and done.path.read_bytes() == pickle


def test_an_endless_body_stops_at_the_recorded_size(server, index):
    data = weights(7)
    server.routes["/endless.safetensors"] = Route(data, endless=True)
    began = time.monotonic()
    with pytest.raises(FetchRefused, match=f"more than the {len(data)} bytes expected"):
        fetch_model(Wanted("loras", server.url("/endless.safetensors"), size=len(data)), index, LOCAL)
    assert time.monotonic() - began < 5
    assert files_in(user_models_dir()) == [] and files_in(user_dir() / "downloads") == []


def test_a_bigger_announced_size_aborts_before_the_body(server, index):
    data = weights(8)
    server.routes["/big.safetensors"] = Route(data)
    with pytest.raises(FetchRefused, match=f"offers {len(data)} bytes but 100 were recorded"):
        fetch_model(Wanted("loras", server.url("/big.safetensors"), size=100), index, LOCAL)
    assert files_in(user_models_dir()) == []


def test_redirects_are_followed_and_bounded(server, index):
    data = weights(9)
    server.routes["/final.safetensors"] = Route(data)
    server.routes["/a"] = Route(redirect="/b")
    server.routes["/b"] = Route(redirect=server.url("/final.safetensors"))
    done = fetch_model(Wanted("loras", server.url("/a"), sha256=sha(data)), index, LOCAL)
    assert done.path.name == "final.safetensors"
    server.routes["/loop"] = Route(redirect="/loop")
    with pytest.raises(FetchRefused, match="more than 5 redirects"):
        fetch_model(Wanted("loras", server.url("/loop")), index, LOCAL)


def test_a_shared_url_to_loopback_is_refused_before_any_request(server, index):
    route = server.routes["/w.safetensors"] = Route(weights())
    with pytest.raises(FetchRefused, match="private or loopback address"):
        fetch_model(Wanted("loras", server.url("/w.safetensors")), index, Options(timeout=5))
    assert route.requests == []
    typed = fetch_model(Wanted("loras", server.url("/w.safetensors"), typed=True), index, Options(timeout=5))
    assert typed.ok
    assert not is_public("10.1.2.3") and not is_public("169.254.169.254") and not is_public("::ffff:127.0.0.1")
    assert is_public("8.8.8.8")


def test_names_never_leave_the_kind_folder(server, index, tmp_path):
    data = weights(10)
    server.routes["/dl/1"] = Route(data, headers={"Content-Disposition": 'attachment; filename="../../evil.sft"'})
    done = fetch_model(Wanted("loras", server.url("/dl/1")), index, LOCAL)
    assert done.path == user_models_dir() / "loras" / "evil.sft"
    server.routes["/dl/2"] = Route(weights(11), headers={"Content-Disposition": "attachment; filename=.bashrc"})
    with pytest.raises(FetchRefused, match="hidden part"):
        fetch_model(Wanted("loras", server.url("/dl/2")), index, LOCAL)
    for bad in ("../x.safetensors", "/etc/x.safetensors", "a/../../x.safetensors"):
        with pytest.raises(FetchRefused):
            fetch_model(Wanted("loras", server.url("/dl/1"), name=bad), index, LOCAL)
    outside = tmp_path / "outside"
    outside.mkdir()
    (user_models_dir() / "loras" / "link").symlink_to(outside)
    with pytest.raises(FetchRefused, match="leads outside"):
        fetch_model(Wanted("loras", server.url("/dl/1"), name="link/x.safetensors"), index, LOCAL)
    assert list(outside.iterdir()) == []


def test_a_different_file_is_never_replaced(server, index):
    data = weights(12)
    server.routes["/s.safetensors"] = Route(data)
    mine = user_models_dir() / "loras" / "s.safetensors"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own file")
    with pytest.raises(FetchRefused, match="a different file is already at"):
        fetch_model(Wanted("loras", server.url("/s.safetensors")), index, LOCAL)
    with pytest.raises(FetchRefused, match="already exists"):
        fetch_model(Wanted("loras", server.url("/s.safetensors"), name="s.safetensors"), index, LOCAL)
    assert mine.read_bytes() == b"my own file"
    mine.unlink()
    fetch_model(Wanted("loras", server.url("/s.safetensors")), index, LOCAL)
    again = fetch_model(Wanted("loras", server.url("/s.safetensors"), name="s.safetensors", sha256=sha(data)),
                        index, LOCAL)
    assert "already there (sha256 verified)" in again.line


def test_one_refused_model_does_not_stop_the_others(server, index):
    data = weights(13)
    server.routes["/good.safetensors"] = Route(data)
    server.routes["/gone.safetensors"] = Route(status=404)
    results = fetch_all([Wanted("loras", server.url("/gone.safetensors")),
                         Wanted("loras", "http://127.0.0.1:9/offline.safetensors"),
                         Wanted("loras", None, name="nowhere.safetensors"),
                         Wanted("loras", server.url("/good.safetensors"))], index, LOCAL)
    assert [r.ok for r in results] == [False, False, False, True]
    assert "HTTP 404" in results[0].line and "no download URL is recorded" in results[2].line
    assert all("\n" not in r.line for r in results)


def test_the_hugging_face_token_goes_to_huggingface_only(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    assert _hf_token("huggingface.co", "https") == "hf_secret"
    assert _hf_token("huggingface.co", "http") is None
    assert _hf_token("evil-huggingface.co", "https") is None
    assert _hf_token("cdn-lfs.hf.co", "https") is None


def test_a_url_without_a_kind_goes_where_its_header_says(server, index):
    from tests.library.test_identity import fake_safetensors

    lora = user_dir() / "src" / "l.safetensors"
    fake_safetensors(lora, {"lora_unet_x.lora_down.weight": (0,)}, {"ss_network_module": "networks.lora"})
    server.routes["/l.safetensors"] = Route(lora.read_bytes())
    server.routes["/mystery.safetensors"] = Route(weights(30))
    assert fetch_model(Wanted(None, server.url("/l.safetensors")), index, LOCAL).path == \
        user_models_dir() / "loras" / "l.safetensors"
    with pytest.raises(FetchRefused, match="its kind cannot be told from its header; give --kind"):
        fetch_model(Wanted(None, server.url("/mystery.safetensors")), index, LOCAL)
    assert files_in(user_dir() / "downloads") == []


def test_two_processes_never_write_one_partial_file(server, index):
    import fcntl

    from nodeflow.library.fetch import _part_path

    wanted = Wanted("loras", server.url("/x.safetensors"))
    server.routes["/x.safetensors"] = Route(weights(31))
    lock = _part_path(wanted).with_suffix(".lock")
    lock.parent.mkdir(parents=True)
    with open(lock, "a+b") as held:  # as another process downloading it would
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(FetchRefused, match="another NodeFlow process is downloading this file"):
            fetch_model(wanted, index, LOCAL)
    assert fetch_model(wanted, index, LOCAL).ok


def test_a_redirect_may_not_lead_a_typed_url_to_another_local_host(server, index):
    data = weights(32)
    server.routes["/w.safetensors"] = Route(data)
    port = server.httpd.server_address[1]
    server.routes["/hop"] = Route(redirect=f"http://localhost:{port}/w.safetensors")
    with pytest.raises(FetchRefused, match="localhost is a private or loopback address"):
        fetch_model(Wanted("loras", server.url("/hop"), typed=True), index, Options(timeout=5))
    server.routes["/same"] = Route(redirect="/w.safetensors")  # the host the user typed: allowed
    assert fetch_model(Wanted("loras", server.url("/same"), typed=True), index, Options(timeout=5)).ok
    server.routes["/scheme"] = Route(redirect="file:///etc/passwd")
    with pytest.raises(FetchRefused, match="is not an http"):
        fetch_model(Wanted("loras", server.url("/scheme"), typed=True), index, Options(timeout=5))
