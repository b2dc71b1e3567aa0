"""`nodeflow models fetch WORKFLOW`: the models a workflow lacks, from the URLs it records."""

from __future__ import annotations

import hashlib
import json

import pytest

from nodeflow.cli import main
from nodeflow.core import default_registry
from nodeflow.core.paths import user_models_dir
from nodeflow.interop.loading import open_workflow
from nodeflow.library import HashIndex, ModelLibrary, configure
from nodeflow.library.roots import collect
from nodeflow.library.wanted import missing_models
from tests.library.model_server import ModelServer, Route
from tests.library.test_fetch import weights


@pytest.fixture(autouse=True)
def _no_cli_folders():
    configure()
    yield
    configure()


def _workflow(manifest: dict) -> dict:
    return {"format": "nodeflow-workflow", "version": 1, "nodes": [
        {"id": "1", "type": "models.load_checkpoint", "version": 1, "params": {"checkpoint": "sd/base.safetensors"}},
        {"id": "2", "type": "models.load_lora", "version": 1, "params": {"lora": "style.safetensors"}},
        {"id": "3", "type": "models.load_lora", "version": 1, "params": {"lora": "gone.safetensors"}},
        {"id": "4", "type": "models.load_lora", "version": 1, "params": {"lora": "style.safetensors"}},
    ], "links": [], "manifest": manifest}


def test_fetch_a_workflows_missing_models_one_line_each(tmp_path, capsys):
    base, style = weights(20), weights(21)
    with ModelServer() as server:
        named = {"Content-Disposition": 'attachment; filename="other.safetensors"'}
        server.routes["/base"] = Route(base, headers=named)
        server.routes["/style.safetensors"] = Route(style)
        manifest = {
            "models": {"checkpoints/sd/base.safetensors": "sha256:" + hashlib.sha256(base).hexdigest(),
                       "loras/style.safetensors": "sha256:" + "1" * 64},
            "model_sizes": {"checkpoints/sd/base.safetensors": len(base)},
            "model_urls": {"checkpoints/sd/base.safetensors": server.url("/base"),
                           "loras/style.safetensors": server.url("/style.safetensors"),
                           "loras/gone.safetensors": server.url("/gone.safetensors")},
        }
        path = tmp_path / "wf.json"
        path.write_text(json.dumps(_workflow(manifest)))
        assert main(["models", "fetch", str(path), "--quiet"]) == 1  # loopback refused: a shared file named it
        err = capsys.readouterr().err
        assert err.count("private or loopback address") == 3
        assert not (user_models_dir() / "checkpoints").exists()
        assert main(["models", "fetch", str(path), "--quiet", "--allow-local"]) == 1
        out, err = capsys.readouterr()
    # the workflow's name wins over the server's; the one listed twice is fetched once
    assert (user_models_dir() / "checkpoints" / "sd" / "base.safetensors").read_bytes() == base
    assert "checkpoints/sd/base.safetensors: fetched to" in out and "sha256 verified" in out
    assert "loras model 'style.safetensors': sha256 mismatch" in err
    assert "loras model 'gone.safetensors': 127.0.0.1 answered HTTP 404" in err
    loras = user_models_dir() / "loras"
    assert not loras.exists() or list(loras.iterdir()) == []


def test_missing_models_lists_each_model_once_with_what_the_manifest_records(tmp_path):
    from nodeflow.core import workflow

    urls = {"loras/style.safetensors": "https://example.org/s", "checkpoints/base.safetensors": "https://e.org/b"}
    graph, _ = workflow.from_data(_workflow({"model_urls": urls, "model_sizes": {"loras/style.safetensors": 12}}),
                                  default_registry())
    library = ModelLibrary(collect(), HashIndex(tmp_path / "i.sqlite"))
    missing = {m.wanted.name: m for m in missing_models(graph, library)}
    assert set(missing) == {"sd/base.safetensors", "style.safetensors", "gone.safetensors"}
    assert missing["style.safetensors"].nodes == ("2", "4")
    assert missing["style.safetensors"].wanted.url == "https://example.org/s"
    assert missing["style.safetensors"].wanted.size == 12 and missing["gone.safetensors"].wanted.url is None
    assert missing["sd/base.safetensors"].wanted.url == "https://e.org/b"  # a hint that names the file only


def test_a_comfyui_workflows_model_hints_become_download_urls(tmp_path):
    ui = {"last_node_id": 1, "last_link_id": 0, "version": 0.4, "links": [], "nodes": [{
        "id": 1, "type": "CheckpointLoaderSimple", "pos": [0, 0], "size": [300, 100], "mode": 0,
        "inputs": [], "outputs": [{"name": "MODEL", "type": "MODEL", "links": []},
                                  {"name": "CLIP", "type": "CLIP", "links": []},
                                  {"name": "VAE", "type": "VAE", "links": []}],
        "widgets_values": ["flux1-dev.safetensors"],
        "properties": {"models": [{"name": "flux1-dev.safetensors", "directory": "checkpoints",
                                   "url": "https://huggingface.co/o/r/resolve/main/flux1-dev.safetensors"}]}}]}
    path = tmp_path / "comfy.json"
    path.write_text(json.dumps(ui))
    graph = open_workflow(path, default_registry()).graph
    assert graph.manifest["model_urls"] == {
        "checkpoints/flux1-dev.safetensors": "https://huggingface.co/o/r/resolve/main/flux1-dev.safetensors"}
    library = ModelLibrary(collect(), HashIndex(tmp_path / "i.sqlite"))
    [missing] = missing_models(graph, library)
    assert missing.wanted.kind == "checkpoints" and missing.wanted.url.endswith("flux1-dev.safetensors")


def test_a_killed_fetch_resumes_where_it_stopped(tmp_path):
    """The CLI in its own process, killed mid-download (kill -9), then run again: a Range request."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from nodeflow.core.paths import user_dir

    data = weights(22, 200_000)
    root = Path(__file__).resolve().parents[2]
    with ModelServer() as server:
        server.routes["/big.safetensors"] = Route(data, stall=10, stall_after=300_000)
        command = [sys.executable, "-c", "import sys; from nodeflow.cli import main; sys.exit(main(sys.argv[1:]))",
                   "models", "fetch", server.url("/big.safetensors"), "--kind", "loras", "--quiet"]
        env = {**os.environ, "PYTHONPATH": str(root)}
        first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        downloads = user_dir() / "downloads"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                p.suffix == ".part" and p.stat().st_size == 300_000 for p in downloads.glob("*")):
            time.sleep(0.05)
        first.kill()
        first.communicate(timeout=10)
        assert not (user_models_dir() / "loras").exists()  # nothing half-done in the model folder
        again = server.routes["/big.safetensors"] = Route(data)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert again.requests[0]["Range"] == "bytes=300000-"
    assert (user_models_dir() / "loras" / "big.safetensors").read_bytes() == data
    assert "not verified: no sha256 was recorded" in done.stdout


def test_fetch_the_models_a_comfyui_workflow_hints_at(tmp_path, capsys):
    data = weights(23)
    digest = hashlib.sha256(data).hexdigest()
    with ModelServer() as server:
        server.routes["/m/resolve/main/base.safetensors"] = Route(data)
        ui = {"version": 0.4, "links": [], "nodes": [{
            "id": 1, "type": "CheckpointLoaderSimple", "pos": [0, 0], "mode": 0, "inputs": [],
            "outputs": [{"name": n, "type": n, "links": []} for n in ("MODEL", "CLIP", "VAE")],
            "widgets_values": ["base.safetensors"],
            "properties": {"models": [{"name": "base.safetensors", "directory": "checkpoints", "hash": digest,
                                       "hash_type": "SHA256", "url": server.url("/m/resolve/main/base.safetensors")}]},
        }]}
        path = tmp_path / "comfy.json"
        path.write_text(json.dumps(ui))
        assert main(["models", "fetch", str(path), "--allow-local", "--quiet"]) == 0
        assert main(["models", "fetch", str(path), "--allow-local", "--quiet"]) == 0  # now in the library
    out = capsys.readouterr().out
    assert "checkpoints/base.safetensors: fetched to" in out and "sha256 verified" in out
    assert "every model it names is in the library" in out
    assert (user_models_dir() / "checkpoints" / "base.safetensors").read_bytes() == data
