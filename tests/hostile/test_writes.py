"""Class 2 of the second probe: writes never follow links planted in --out, and a file the user
had in a fresh --out under the name a run would write is never replaced (the next free name is)."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")


def text_workflow(sandbox, prefix: str = "t"):
    return sandbox.workflow([{"id": "1", "type": "basic.text", "params": {"text": "made by the run"}},
                             {"id": "2", "type": "basic.save_text", "params": {"filename_prefix": prefix}}],
                            [("1", "text", "2", "text")])


@pytest.fixture
def secret(sandbox):
    path = sandbox.file("private/secret.txt", "the user's own words")
    return path


@pytest.mark.parametrize("planted", ["index.jsonl", ".nodeflow-batch.json"])
def test_a_batch_file_planted_as_a_link_is_neither_followed_nor_copied(sandbox, secret, planted):
    sandbox.out.mkdir(parents=True)
    (sandbox.out / planted).symlink_to(secret)
    code, err = sandbox.cli("run", text_workflow(sandbox))
    assert code == 2 and planted in err and "link" in err
    assert secret.read_text() == "the user's own words"
    assert [p for p in sandbox.out.iterdir() if p.name != planted] == []


def test_a_folder_link_inside_out_is_not_written_through(sandbox, secret):
    sandbox.out.mkdir(parents=True)
    (sandbox.out / "sub").symlink_to(secret.parent, target_is_directory=True)
    code, err = sandbox.cli("run", text_workflow(sandbox, "sub/t"))
    assert code != 0 and "link" in err
    assert sorted(p.name for p in secret.parent.iterdir()) == ["secret.txt"]


def test_a_users_file_under_the_name_a_run_would_write_is_kept(sandbox):
    sandbox.out.mkdir(parents=True)
    mine = sandbox.out / "t_00001_01.txt"
    mine.write_text("mine")
    code, err = sandbox.cli("run", text_workflow(sandbox))
    assert code == 0, err
    assert mine.read_text() == "mine"
    (made,) = [p for p in sandbox.out.glob("t_*.txt") if p != mine]
    assert made.read_text() == "made by the run" and made.name == "t_00001_01-2.txt"
    index = (sandbox.out / "index.jsonl").read_text()
    assert '"t_00001_01-2.txt"' in index
