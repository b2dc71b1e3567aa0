"""The model library: folders by kind, names, the hash index, resolve by hash, missing models."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nodeflow.core import default_registry
from nodeflow.core.graph import Graph
from nodeflow.engine.plan import validate
from nodeflow.library import HashIndex, ModelLibrary, ModelNotFound, configure, default_library, manifest_key
from nodeflow.library.roots import collect


@pytest.fixture(autouse=True)
def _no_cli_folders():
    configure()
    yield
    configure()


def _write(path: Path, data: bytes = b"weights") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    _write(root / "checkpoints" / "sd15" / "v1-5.safetensors", b"a" * 1000)
    _write(root / "checkpoints" / "other.ckpt", b"b" * 10)
    _write(root / "checkpoints" / "notes.txt", b"not a model")
    pipe = root / "checkpoints" / "pipe"
    _write(pipe / "model_index.json", b"{}")
    _write(pipe / "unet" / "diffusion_pytorch_model.safetensors", b"u" * 50)
    _write(root / "loras" / "style.safetensors", b"l" * 20)
    return root


def test_names_are_relative_and_a_diffusers_folder_is_one_model(tmp_path):
    library = ModelLibrary(collect([_root(tmp_path)]), HashIndex(tmp_path / "index.sqlite"))
    names = [e.name for e in library.scan("checkpoints")]
    assert names == ["tiny-shapes", "tiny-shapes-flow", "other.ckpt", "pipe", "sd15/v1-5.safetensors"]
    assert [e.name for e in library.scan("loras")] == ["style.safetensors"]
    assert library.resolve("checkpoints", "pipe").name == "pipe"
    assert library.name_of(tmp_path / "models" / "loras" / "style.safetensors") == ("loras", "style.safetensors")
    assert library.name_of(library.resolve("checkpoints", "tiny-shapes")) == ("checkpoints", "tiny-shapes")


def test_second_scan_hashes_nothing(tmp_path):
    root = _root(tmp_path)
    first = ModelLibrary(collect([root]), HashIndex(tmp_path / "index.sqlite"))
    entries = [e for e in first.scan() if e.source != "built-in"]
    digests = [first.index.sha256(e.path) for e in entries]
    assert first.index.hashed == len(entries) == 4
    second = ModelLibrary(collect([root]), HashIndex(tmp_path / "index.sqlite"))
    assert [second.index.sha256(e.path) for e in second.scan() if e.source != "built-in"] == digests
    assert second.index.hashed == 0
    changed = root / "loras" / "style.safetensors"
    changed.write_bytes(b"m" * 21)  # new size: the stored hash no longer applies
    assert second.index.known(changed) is None
    assert second.index.sha256(changed) not in digests and second.index.hashed == 1


def test_resolve_by_hash_after_a_rename(tmp_path):
    root = _root(tmp_path)
    library = ModelLibrary(collect([root]), HashIndex(tmp_path / "index.sqlite"))
    old = root / "checkpoints" / "sd15" / "v1-5.safetensors"
    manifest = {"models": {manifest_key("checkpoints", "sd15/v1-5.safetensors"): library.index.sha256(old)}}
    new = root / "checkpoints" / "renamed" / "sd-one-five.safetensors"
    new.parent.mkdir()
    old.rename(new)
    found = library.resolve_recorded("checkpoints", "sd15/v1-5.safetensors", manifest)
    assert found == new
    with pytest.raises(ModelNotFound):
        library.resolve("checkpoints", "sd15/v1-5.safetensors")  # no hash: nothing to go on


def test_missing_model_message_says_name_hash_size_kind_and_folder(tmp_path):
    library = ModelLibrary(collect([]), HashIndex(tmp_path / "index.sqlite"))
    manifest = {"models": {"loras/anime/x.safetensors": "sha256:" + "ab" * 32},
                "model_sizes": {"loras/anime/x.safetensors": 151_000_000}}
    with pytest.raises(ModelNotFound) as caught:
        library.resolve_recorded("loras", "anime/x.safetensors", manifest)
    message = str(caught.value)
    assert "loras model 'anime/x.safetensors' not found" in message
    assert "ab" * 32 in message and "151.0 MB" in message
    assert str(Path(os.environ["NODEFLOW_HOME"]) / "models" / "loras" / "anime") in message


def test_comfyui_install_with_extra_model_paths(tmp_path, monkeypatch):
    comfy = tmp_path / "ComfyUI"
    _write(comfy / "models" / "checkpoints" / "sdxl.safetensors")
    _write(comfy / "models" / "text_encoders" / "t5.safetensors")
    _write(comfy / "models" / "diffusion_models" / "flux.safetensors")
    shared = tmp_path / "shared"
    _write(shared / "sd" / "a1111.safetensors")
    _write(shared / "Lora" / "one.safetensors")
    _write(shared / "LyCORIS" / "two.safetensors")
    (comfy / "extra_model_paths.yaml").write_text(
        "a111:\n"
        "    base_path: ../shared\n"
        "    checkpoints: sd\n"
        "    configs: sd\n"
        "    loras: |\n"
        "        Lora\n"
        "        LyCORIS\n"
        "empty:\n", encoding="utf-8")
    monkeypatch.setenv("NODEFLOW_COMFYUI", str(comfy))
    library = default_library()
    assert [e.name for e in library.scan("checkpoints")] == ["tiny-shapes", "tiny-shapes-flow", "sdxl.safetensors",
                                                               "a1111.safetensors"]
    assert [e.name for e in library.scan("loras")] == ["one.safetensors", "two.safetensors"]
    assert [e.name for e in library.scan("clip")] == ["t5.safetensors"]
    assert [e.name for e in library.scan("unet")] == ["flux.safetensors"]
    assert library.resolve("loras", "two.safetensors") == shared / "LyCORIS" / "two.safetensors"
    assert not library.folders.problems


def test_broken_extra_model_paths_is_a_problem_not_a_crash(tmp_path):
    comfy = tmp_path / "ComfyUI"
    (comfy / "models").mkdir(parents=True)
    (comfy / "extra_model_paths.yaml").write_text("a: [unclosed\n", encoding="utf-8")
    configure(comfyui=[comfy])
    problems = default_library().folders.problems
    assert len(problems) == 1 and "extra_model_paths.yaml: cannot read" in problems[0]


def test_env_and_settings_roots_come_after_the_command_line(tmp_path, monkeypatch):
    for name in ("cli", "env", "settings"):
        _write(tmp_path / name / "vae" / "same.safetensors", name.encode())
    monkeypatch.setenv("NODEFLOW_MODEL_PATHS", str(tmp_path / "env"))
    home = Path(os.environ["NODEFLOW_HOME"])
    (home / "model-folders.json").write_text(json.dumps({"roots": [str(tmp_path / "settings")]}))
    assert default_library().resolve("vae", "same.safetensors").read_bytes() == b"env"
    configure(roots=[tmp_path / "cli"])
    assert default_library().resolve("vae", "same.safetensors").read_bytes() == b"cli"
    configure()
    monkeypatch.delenv("NODEFLOW_MODEL_PATHS")
    assert default_library().resolve("vae", "same.safetensors").read_bytes() == b"settings"


def test_validation_reports_a_missing_checkpoint(tmp_path):
    graph = Graph(default_registry())
    ckpt = graph.add_node("models.load_checkpoint", {"checkpoint": "sd15/missing.safetensors"})
    encode = graph.add_node("conditioning.text_encode", {"text": "a"})
    graph.connect(ckpt.id, "clip", encode.id, "clip")
    show = graph.add_node("basic.show")
    graph.connect(encode.id, "conditioning", show.id, "value")
    graph.manifest = {"models": {"checkpoints/sd15/missing.safetensors": "sha256:" + "cd" * 32}}
    problems = [str(p) for p in validate(graph)]
    assert len(problems) == 1
    assert problems[0].startswith(f"node {ckpt.id} input 'checkpoint': checkpoints model 'sd15/missing.safetensors'")
    assert "cd" * 32 in problems[0]
    graph.set_param(ckpt.id, "checkpoint", "tiny-shapes")
    assert validate(graph) == []


def test_models_command_lists_json(tmp_path, capsys):
    from nodeflow.cli import main

    root = _root(tmp_path)
    assert main(["models", "--kind", "loras", "--json", "--hash", "--models-dir", str(root)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(m["name"], m["size"]) for m in data["models"]] == [("style.safetensors", 20)]
    assert data["models"][0]["sha256"].startswith("sha256:")
    assert data["folders"]["loras"][0] == {"path": str(root / "loras"), "source": "command line", "exists": True}


def test_a_comfyui_installs_input_folder_holds_load_image_files(tmp_path):
    from PIL import Image

    comfy = tmp_path / "ComfyUI"
    (comfy / "models").mkdir(parents=True)
    (comfy / "input").mkdir()
    Image.new("RGB", (8, 8)).save(comfy / "input" / "example.png")
    graph = Graph(default_registry())
    load = graph.add_node("image.load", {"image": "example.png"})
    show = graph.add_node("basic.show")
    graph.connect(load.id, "image", show.id, "value")
    assert [p.field for p in validate(graph, workflow_dir=tmp_path)] == ["image"]
    configure(comfyui=[comfy])
    assert default_library().search_dirs(tmp_path)[-1] == comfy / "input"
    assert validate(graph, workflow_dir=tmp_path) == []
