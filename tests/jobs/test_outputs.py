"""The output folder's rules: job-numbered names, a torn index line, numbering across batches."""

from __future__ import annotations

import json

import pytest

from nodeflow.core.outputs import job_file_name
from nodeflow.jobs.outputs import OutputFolder, ResumeError


def test_final_names_carry_the_job_number_and_keep_sub_folders():
    assert job_file_name("txt2img_00002.png", 7) == "txt2img_00007_02.png"
    assert job_file_name("runs/cat_00001.png", 12) == "runs/cat_00012_01.png"
    assert job_file_name("notes.txt", 3) == "notes_00003.txt"


def test_a_torn_last_line_is_ignored_and_repaired(tmp_path):
    folder = OutputFolder(tmp_path)
    folder.commit(1, {"5.seed": 1}, "done", {"a_00001.png": b"png"}, 0.5, "")
    with open(folder.index_path, "ab") as handle:
        handle.write(b'{"job": 2, "set": {"5.se')  # killed mid-write
    assert folder.done_jobs() == {1}
    folder.repair_index()
    folder.commit(2, {"5.seed": 2}, "failed", {}, 0.1, "boom")
    lines = [json.loads(line) for line in folder.index_path.read_text().splitlines()]
    assert [(e["job"], e["status"], e["files"]) for e in lines] == [(1, "done", ["a_00001_01.png"]), (2, "failed", [])]
    assert (tmp_path / "a_00001_01.png").read_bytes() == b"png"


def test_batches_number_on_and_resume_checks_the_batch(tmp_path):
    folder = OutputFolder(tmp_path)
    first = folder.start_batch("b1", 4, "key1", resume=False)
    assert (first.first, first.count) == (1, 4)
    assert folder.start_batch("b1", 4, "key1", resume=True) == first
    with pytest.raises(ResumeError, match="holds a different batch"):
        folder.start_batch("b2", 4, "key2", resume=True)
    second = folder.start_batch("b2", 2, "key2", resume=False, after=6)
    assert second.first == 7  # after the 4 jobs of the first batch and 2 still queued for this folder
