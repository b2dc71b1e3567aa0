"""The output rule: prefixes are normalised, then held inside the output folder; --out is checked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from nodeflow.core.outputs import OutputPathError, normalise_prefix, output_dir_problem, output_target


@pytest.mark.parametrize("prefix, clean", [
    ("cat", "cat"), (" cat ", "cat"), ("runs/cat", "runs/cat"), ("runs\\cat", "runs/cat"),
    (".", "nodeflow"), ("", "nodeflow"), ("./a//b/", "a/b"), (" runs / cat ", "runs/cat"),
])
def test_prefixes_are_normalised(prefix, clean):
    assert normalise_prefix(prefix) == clean


@pytest.mark.parametrize("prefix", [
    "../x", " ../x", "a/../../x", "a/ .. /x", "/etc/x", " /etc/x", "C:/x", "c:x", "~/x", "..\\x",
    "a\x00b", "a\nb", "...", "x" * 300,
])
def test_prefixes_that_leave_the_folder_are_refused(prefix, tmp_path):
    with pytest.raises(OutputPathError):
        output_target(tmp_path, prefix)


def test_a_symlink_out_of_the_output_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(tmp_path)
    with pytest.raises(OutputPathError, match="outside the output folder"):
        output_target(out, "link/x")


def test_target_is_folder_and_stem_inside_the_output_folder(tmp_path):
    folder, stem = output_target(tmp_path / "out", "runs/cat")
    assert folder == (tmp_path / "out" / "runs").resolve() and stem == "cat"


def test_output_folder_must_be_a_writable_or_creatable_folder(tmp_path):
    assert output_dir_problem(tmp_path / "new" / "deeper") is None
    file = tmp_path / "file"
    file.write_text("x")
    assert "is a file" in output_dir_problem(file)
    assert "is a file" in output_dir_problem(file / "below")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_output_folder_is_refused(tmp_path: Path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert "not writable" in output_dir_problem(locked)
        assert "not writable" in output_dir_problem(locked / "sub")
    finally:
        locked.chmod(0o700)
