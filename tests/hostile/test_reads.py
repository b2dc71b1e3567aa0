"""Class 1 and 3 of the second probe: a shared workflow reads only inside the input roots (its own
folder tree, the user's input folder, configured and allowed folders, files the user named), and a
FIFO, socket or device named as a file is refused by its type, without being opened."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from hostile_sandbox import names
from PIL import Image

from nodeflow.cli.common import load_workflow
from nodeflow.core.context import RunContext
from nodeflow.core.errors import NodeError
from nodeflow.core.reads import ReadRefused, ReadRule, read_bounded
from nodeflow.engine.plan import validate


def picture(path, colour="red"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path)
    return path


def load_and_save(sandbox, image: str, **top):
    return sandbox.workflow([{"id": "1", "type": "image.load", "params": {"image": image}},
                             {"id": "2", "type": "image.save", "params": {"filename_prefix": "x"}}],
                            [("1", "image", "2", "images")], **top)


@pytest.fixture
def private(sandbox):
    """A picture of the user's beside the folder the shared workflow was saved in."""
    path = picture(sandbox.root / "private" / "photo.png", "blue")
    sandbox.inputs.add(path)
    return path


@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_a_picture_outside_the_workflow_folder_is_refused_naming_node_field_and_the_way_to_allow(
        sandbox, private, how):
    wf = load_and_save(sandbox, "../private/photo.png" if how == "relative" else str(private))
    code, err = sandbox.cli("validate", wf)
    assert code == 2 and names(err, "1", "image") and "--allow-read" in err
    assert len(err.strip().splitlines()) == 1
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "1", "image")
    assert not sandbox.out.exists() and sandbox.written_outside() == []


def test_a_link_inside_the_workflow_folder_that_points_out_is_refused(sandbox, private):
    (sandbox.root / "work").mkdir(exist_ok=True)
    (sandbox.root / "work" / "innocent.png").symlink_to(private)
    code, err = sandbox.cli("run", load_and_save(sandbox, "innocent.png"))
    assert code == 2 and names(err, "1", "image") and not sandbox.out.exists()


def test_a_name_that_reaches_load_image_through_a_link_is_refused_when_it_runs(sandbox, private):
    wf = sandbox.workflow([{"id": "t", "type": "basic.text", "params": {"text": str(private)}},
                           {"id": "1", "type": "image.load"},
                           {"id": "2", "type": "image.save", "params": {"filename_prefix": "x"}}],
                          [("t", "text", "1", "image"), ("1", "image", "2", "images")])
    code, err = sandbox.cli("run", wf)
    assert code == 1 and "node 1" in err and "outside the folders" in err
    assert not list(sandbox.out.rglob("*.png"))


def test_a_checkpoint_path_outside_every_model_folder_is_refused(sandbox):
    stolen = sandbox.root / "private" / "model.safetensors"
    stolen.parent.mkdir(parents=True, exist_ok=True)
    stolen.write_bytes(b"\0" * 64)
    graph = load_workflow(sandbox.workflow([{"id": "1", "type": "models.load_checkpoint",
                                             "params": {"checkpoint": str(stolen)}}]))
    problems = validate(graph, sandbox.root / "work", targets=["1"])
    assert [(p.node_id, p.field) for p in problems] == [("1", "checkpoint")]
    assert "outside the folders" in problems[0].message


@pytest.mark.parametrize("allow", ["flag", "setting", "environment", "named"])
def test_the_user_can_allow_a_folder_or_name_the_file(sandbox, private, monkeypatch, allow):
    wf = load_and_save(sandbox, str(private))
    extra = []
    if allow == "flag":
        extra = ["--allow-read", str(private.parent)]
    elif allow == "setting":
        home = os.environ["NODEFLOW_HOME"]
        with open(os.path.join(home, "model-folders.json"), "w") as handle:
            json.dump({"allow_read": [str(private.parent)]}, handle)
    elif allow == "environment":
        monkeypatch.setenv("NODEFLOW_ALLOW_READ", str(private.parent))
    else:
        extra = ["--set", f"1.image={private}"]
    code, err = sandbox.cli("run", wf, *extra)
    assert code == 0, err
    assert len(list(sandbox.out.rglob("x_*.png"))) == 1


def test_allowing_one_named_file_allows_not_its_neighbours(private):
    rule = ReadRule.of([private])
    assert rule.allows(private) and not rule.allows(private.parent / "other.png")
    assert not rule.allows(private.parent / (private.name + "x"))


def test_pictures_in_the_user_input_folder_are_found_by_name(sandbox):
    picture(Path(os.environ["NODEFLOW_HOME"]) / "input" / "mine.png")
    code, err = sandbox.cli("run", load_and_save(sandbox, "mine.png"))
    assert code == 0, err
    assert len(list(sandbox.out.rglob("x_*.png"))) == 1


def _release_readers(fifo: Path) -> None:
    """Give a reader blocked on `fifo` its end of file (nothing happens when none waits)."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_fifo_named_as_a_picture_is_refused_without_waiting_for_a_writer(sandbox, command):
    fifo = sandbox.root / "work" / "pipe.png"
    os.mkfifo(fifo)
    wf = load_and_save(sandbox, "pipe.png")
    rescue = threading.Timer(20, _release_readers, (fifo,))
    rescue.start()
    started = time.monotonic()
    try:
        code, err = sandbox.cli(command, wf)
    finally:
        rescue.cancel()
    assert time.monotonic() - started < 20, f"{command} opened the FIFO for reading and waited"
    assert code == 2 and names(err, "1", "image") and "FIFO" in err


@pytest.mark.skipif(sys.platform == "win32", reason="no /dev/zero")
def test_a_device_is_refused_by_its_type_and_every_named_read_is_bounded(tmp_path):
    rule = ReadRule.of([tmp_path, "/dev"])
    assert "character device" in rule.refusal(Path("/dev/zero"), "/dev/zero")
    with pytest.raises(ReadRefused, match="character device"):
        read_bounded(Path("/dev/zero"), 1024)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2049)
    with pytest.raises(ReadRefused, match="larger than 2 KiB"):
        read_bounded(big, 2048)
    assert read_bounded(big, 4096) == b"x" * 2049


def test_run_context_refuses_what_the_rule_refuses_naming_the_field(tmp_path):
    inside, outside = tmp_path / "wf", tmp_path / "elsewhere"
    inside.mkdir()
    picture(outside / "p.png")
    ctx = RunContext(node_id="7", search_dirs=(inside,), reads=ReadRule.of([inside]))
    with pytest.raises(NodeError) as caught:
        ctx.resolve_path("../elsewhere/p.png", "image")
    assert caught.value.field == "image" and "outside the folders" in str(caught.value)
    assert RunContext(search_dirs=(inside,)).resolve_path("../elsewhere/p.png").is_file()


@pytest.mark.parametrize("node, field", [("image.load", "image"), ("audio.load", "audio"), ("video.load", "file")])
def test_file_loaders_refuse_reads_empty_and_missing_names_naming_their_field(tmp_path, node, field):
    from nodeflow.core import default_registry

    inside, outside = tmp_path / "wf", tmp_path / "elsewhere"
    inside.mkdir()
    picture(outside / "p.png")
    loader = default_registry().get(node)()
    ctx = RunContext(node_id="7", search_dirs=(inside,), reads=ReadRule.of([inside]))
    for name, says in (("../elsewhere/p.png", "outside the folders"), ("", "chosen"), ("gone.png", "not found")):
        with pytest.raises(NodeError) as caught:
            loader.run(ctx, **{field: name})
        assert caught.value.field == field and says in str(caught.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_as_the_workflow_is_refused_without_waiting(sandbox):
    fifo = sandbox.root / "work" / "wf.json"
    os.mkfifo(fifo)
    rescue = threading.Timer(20, _release_readers, (fifo,))
    rescue.start()
    started = time.monotonic()
    try:
        code, err = sandbox.cli("validate", fifo)
    finally:
        rescue.cancel()
    assert time.monotonic() - started < 20 and code == 2 and "FIFO" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_the_memory_plan_never_opens_a_fifo_named_as_a_picture(sandbox):
    """The editor's estimate plans without validating first: it must not wait on a FIFO either."""
    from nodeflow.engine.memory_plan import make_memory_plan
    from nodeflow.engine.plan import make_plan

    fifo = sandbox.root / "work" / "pipe.png"
    os.mkfifo(fifo)
    graph = load_workflow(load_and_save(sandbox, "pipe.png"))
    rescue = threading.Timer(20, _release_readers, (fifo,))
    rescue.start()
    started = time.monotonic()
    try:
        make_memory_plan(graph, make_plan(graph).order, (fifo.parent,), "cpu", 10**9)
    finally:
        rescue.cancel()
    assert time.monotonic() - started < 20


def test_an_example_opened_as_an_untitled_copy_still_reads_its_bundled_picture(monkeypatch):
    """The editor opens a bundled example without a folder; its picture ships with NodeFlow."""
    from nodeflow.core import default_registry, files
    from nodeflow.core.paths import EXAMPLES

    monkeypatch.delenv("NODEFLOW_ALLOW_READ", raising=False)
    monkeypatch.chdir(EXAMPLES.parent)
    graph, _ = files.load(EXAMPLES / "img2img.json", default_registry())
    load = next(n for n, r in graph.nodes.items() if r.type == "image.load")
    assert [p for p in validate(graph, None) if p.node_id == load] == []


def test_the_network_policy_of_the_one_rule_refuses_names_that_leave_their_folder(tmp_path):
    root = tmp_path / "in"
    picture(root / "sub" / "ok.png")
    local = ReadRule.of([root, tmp_path])
    network = local.for_network("upload it")
    assert network.roots == local.roots and not local.relative_names and network.relative_names
    assert network.refusal(root / "sub" / "ok.png", "sub/ok.png") is None
    for name in ("../in/sub/ok.png", str(root / "sub" / "ok.png"), "~/x.png", "sub\\ok.png"):
        path = root / name if not Path(name).is_absolute() else Path(name)
        assert local.refusal(path, name) is None, name  # inside tmp_path: the local policy allows it
        problem = network.refusal(path, name)
        assert problem is not None and problem.endswith("upload it"), name
    assert "NUL" in network.name_refusal("a\x00b.png") and "NUL" in local.name_refusal("a\x00b.png")
