"""A save onto a full disk: one line naming node, field and path; no partial file; nothing lost.

The disk really is full: `--out` is a 20 KB tmpfs mounted in a private user and mount namespace
(`unshare -Urm`), and the picture is larger than that. Where this machine allows no such
namespace, the same run goes through a fixture that makes every write into `--out` fail with
ENOSPC beyond 20 KB at the OS boundary (`os.fdopen`'s handles), not inside NodeFlow's code.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tmpfs and /proc/self/fd are Linux's")

QUOTA = 20_000
ROOT = Path(__file__).resolve().parents[2]


def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = "d=$(mktemp -d) && mount -t tmpfs -o size=20k tmpfs \"$d\" && umount \"$d\" && rmdir \"$d\""
    return subprocess.run(["unshare", "-Urm", "sh", "-c", probe], capture_output=True).returncode == 0


@pytest.fixture
def job(tmp_path):
    """A workflow saving a 96x96 noise picture (about 28 KB as PNG) into tmp/out, which holds the
    user's own file."""
    pixels = (np.random.default_rng(0).random((96, 96, 3)) * 255).astype("uint8")
    Image.fromarray(pixels).save(tmp_path / "noise.png")
    workflow = {"format": "nodeflow-workflow", "version": 1,
                "nodes": [{"id": "1", "type": "image.load", "params": {"image": "noise.png"}},
                          {"id": "7", "type": "image.save", "params": {"filename_prefix": "pic"}}],
                "links": [{"from": ["1", "image"], "to": ["7", "images"]}]}
    (tmp_path / "wf.json").write_text(json.dumps(workflow))
    (tmp_path / "out").mkdir()
    return tmp_path, pixels


def _cli(*args: str) -> str:
    return (f"{sys.executable} -c 'import sys; from nodeflow.cli import main; sys.exit(main(sys.argv[1:]))' "
            + " ".join(args))


def _on_a_full_tmpfs(folder: Path) -> tuple[int, str, list[str], int, str, list[str]]:
    """Run the job onto a full tmpfs, then grow the tmpfs and resume: (rc, stderr, files) twice."""
    run = _cli("run wf.json --out out --device cpu --quiet")
    script = f"""
cd {folder}
mount -t tmpfs -o size={QUOTA // 1000}k tmpfs out && echo mine > out/mine.txt
{run} 2> err1; echo $? > rc1; ls -A out > files1
mount -o remount,size=1m out
{run} --resume 2> err2; echo $? > rc2; ls -A out > files2
cp out/pic_*.png made.png; cp out/mine.txt mine_after.txt
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["unshare", "-Urm", "sh", "-c", script], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr

    def read(name: str) -> str:
        return (folder / name).read_text()

    return (int(read("rc1")), read("err1"), read("files1").split(), int(read("rc2")), read("err2"),
            read("files2").split())


class _Limited:
    """A file handle whose writes fail with ENOSPC once its quota is spent."""

    def __init__(self, handle, quota: _Quota) -> None:
        self._handle, self._quota = handle, quota

    def write(self, data) -> int:
        if self._quota.used + len(data) > self._quota.limit:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._quota.used += len(data)
        return self._handle.write(data)

    def __getattr__(self, name: str):
        return getattr(self._handle, name)

    def __enter__(self) -> _Limited:
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()


class _Quota:
    """Writes into one folder fail with ENOSPC once `limit` bytes are in it, as a full disk's do."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder, self.limit, self.used = os.path.realpath(folder), limit, 0
        self._fdopen = os.fdopen

    def __call__(self, fd: int, *args, **kwargs):
        handle = self._fdopen(fd, *args, **kwargs)
        writes = "w" in handle.mode or "a" in handle.mode
        inside = os.readlink(f"/proc/self/fd/{fd}").startswith(self.folder + os.sep)
        return _Limited(handle, self) if writes and inside else handle


def _with_a_quota(folder: Path, monkeypatch, capsys) -> tuple[int, str, list[str], int, str, list[str]]:
    from nodeflow.cli import main

    monkeypatch.chdir(folder)
    out = folder / "out"
    (out / "mine.txt").write_text("mine\n")
    quota = _Quota(out, QUOTA)
    monkeypatch.setattr(os, "fdopen", quota)
    args = ["run", "wf.json", "--out", "out", "--device", "cpu", "--quiet"]
    capsys.readouterr()
    rc1, err1, files1 = main(args), capsys.readouterr().err, sorted(p.name for p in out.iterdir())
    quota.limit = 10 ** 9
    rc2, err2, files2 = main([*args, "--resume"]), capsys.readouterr().err, sorted(p.name for p in out.iterdir())
    made = next(out.glob("pic_*.png"), None)
    if made is not None:
        shutil.copy(made, folder / "made.png")
    shutil.copy(out / "mine.txt", folder / "mine_after.txt")
    return rc1, err1, files1, rc2, err2, files2


@pytest.mark.parametrize("disk", ["tmpfs", "quota"])
def test_a_save_onto_a_full_disk_names_node_field_and_path_and_loses_nothing(job, disk, monkeypatch, capsys):
    folder, pixels = job
    if disk == "tmpfs" and not _can_mount():
        pytest.skip("no private mount namespace here (unshare -Urm); the quota case covers it")
    rc1, err1, files1, rc2, err2, files2 = (_on_a_full_tmpfs(folder) if disk == "tmpfs"
                                            else _with_a_quota(folder, monkeypatch, capsys))
    lines = err1.strip().splitlines()
    assert rc1 == 2 and len(lines) == 1, err1
    assert lines[0].startswith("error: node 7 input 'filename_prefix': cannot write ")
    assert f"{folder / 'out'}{os.sep}pic_" in lines[0] and "No space left on device" in lines[0]
    assert sorted(files1) == [".nodeflow-batch.json", "mine.txt"]  # no partial picture, no temp file
    assert rc2 == 0, err2  # with room again the same batch resumes and writes the picture whole
    assert len([f for f in files2 if f.startswith("pic_")]) == 1 and "index.jsonl" in files2, (err2, files2)
    np.testing.assert_array_equal(np.asarray(Image.open(folder / "made.png").convert("RGB")), pixels)
    assert (folder / "mine_after.txt").read_text() == "mine\n"


def test_a_node_saving_itself_onto_a_full_disk_names_its_field_and_the_file(job, monkeypatch):
    """The editor's runs save from the node (`RunContext.write_output`): the same line, at the node."""
    from nodeflow.core import default_registry, files
    from nodeflow.engine import Executor

    folder, _ = job
    graph, _ = files.load(folder / "wf.json", default_registry())
    monkeypatch.setattr(os, "fdopen", _Quota(folder / "out", QUOTA))
    result = Executor(device="cpu").run(graph, output_dir=folder / "out", workflow_dir=folder)
    assert not result.ok
    assert "(input 'filename_prefix')" in result.errors["7"] and f"{folder / 'out'}{os.sep}pic_" in result.errors["7"]
    assert "No space left on device" in result.errors["7"] and "\n" not in result.errors["7"]
    assert sorted(p.name for p in (folder / "out").iterdir()) == []  # no partial picture, no temp file
