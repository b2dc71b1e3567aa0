"""Atomic writes: whole file or old file, never half; new names never replace; umask honoured."""

from __future__ import annotations

import os
import sys

import pytest

from nodeflow.core.atomic import atomic_file, write_atomic, write_new


def test_write_atomic_replaces_whole_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "wf.json"
    write_atomic(target, "one")
    write_atomic(target, b"two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["wf.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "wf.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write(b"half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["wf.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.json", "x")
        path = write_new(tmp_path, "img", ".png", lambda h: h.write(b"x"))
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert path.stat().st_mode & 0o777 == 0o644


def test_write_new_counts_up_and_never_replaces(tmp_path):
    (tmp_path / "img_00007.png").write_bytes(b"keep")
    first = write_new(tmp_path, "img", ".png", lambda h: h.write(b"a"))
    second = write_new(tmp_path, "img", ".png", lambda h: h.write(b"b"))
    assert (first.name, second.name) == ("img_00008.png", "img_00009.png")
    assert (tmp_path / "img_00007.png").read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img_00007.png", "img_00008.png", "img_00009.png"]


def test_exclusive_refuses_an_existing_name(tmp_path):
    (tmp_path / "x").write_bytes(b"keep")
    with pytest.raises(FileExistsError), atomic_file(tmp_path / "x", exclusive=True) as handle:
        handle.write(b"new")
    assert (tmp_path / "x").read_bytes() == b"keep"
    assert [p.name for p in tmp_path.iterdir()] == ["x"]


def test_glob_characters_in_a_stem_are_literal(tmp_path):
    (tmp_path / "a[1]_00003.png").write_bytes(b"x")
    assert write_new(tmp_path, "a[1]", ".png", lambda h: h.write(b"y")).name == "a[1]_00004.png"
