"""Class 7 (and 3 and 11) of the second probe: a batch is bounded before anything is allocated.

Values files are read with a size bound and never from a FIFO or device, jobs are counted before
they are listed and capped, the queue keeps one copy of a batch's workflow, and repeats of a
workflow without a seed are run once, with a note, instead of reported as work done."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time

import pytest

from nodeflow.jobs import sweep
from nodeflow.jobs.store import default_path


def text_workflow(sandbox, text: str = "x"):
    return sandbox.workflow([{"id": "1", "type": "basic.text", "params": {"text": text}},
                             {"id": "2", "type": "basic.save_text", "params": {"filename_prefix": "t"}},
                             {"id": "3", "type": "basic.int", "params": {"value": 1}},
                             {"id": "4", "type": "basic.int", "params": {"value": 1}}],
                            [("1", "text", "2", "text")])


@pytest.mark.skipif(sys.platform == "win32", reason="no /dev/zero")
def test_a_device_as_values_file_is_refused_by_its_type(sandbox):
    code, err = sandbox.cli("run", text_workflow(sandbox), "--sweep", "1.text=@/dev/zero")
    assert code == 2 and "1.text=@/dev/zero" in err and "character device" in err
    assert not sandbox.out.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_values_file_is_refused_without_waiting_for_a_writer(sandbox):
    fifo = sandbox.root / "work" / "values.txt"
    os.mkfifo(fifo)

    def release() -> None:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass

    rescue = threading.Timer(20, release)
    rescue.start()
    started = time.monotonic()
    try:
        code, err = sandbox.cli("run", text_workflow(sandbox), "--sweep", f"1.text=@{fifo}")
    finally:
        rescue.cancel()
    assert time.monotonic() - started < 20, "the values file was opened and waited on"
    assert code == 2 and "FIFO" in err


def test_a_values_file_over_the_bound_is_refused_naming_it(sandbox, monkeypatch):
    monkeypatch.setattr(sweep, "MAX_VALUES_FILE", 1000)
    values = sandbox.file("values.txt", "a\n" * 600)
    code, err = sandbox.cli("run", text_workflow(sandbox), "--sweep", f"1.text=@{values}")
    assert code == 2 and "values.txt" in err and "larger than" in err
    assert len(err.strip().splitlines()) == 1


def test_ranges_whose_product_is_a_trillion_jobs_are_counted_not_listed(sandbox):
    started = time.process_time()
    code, err = sandbox.cli("run", text_workflow(sandbox), "--sweep", "3.value=1..1000000",
                            "--sweep", "4.value=1..1000000")
    assert code == 2 and "1,000,000,000,000 jobs" in err and "--max-jobs" in err
    assert time.process_time() - started < 5
    assert not sandbox.out.exists()


def test_repeats_are_counted_against_the_cap_too(sandbox):
    code, err = sandbox.cli("run", text_workflow(sandbox), "--repeat", "10000000")
    assert code == 2 and "10,000,000 jobs" in err and "10,000,000 repeats" in err


def test_the_job_cap_is_the_users_to_raise(sandbox):
    wf = text_workflow(sandbox)
    code, err = sandbox.cli("run", wf, "--sweep", "1.text=a,b,c,d", "--max-jobs", "3")
    assert code == 2 and "4 jobs" in err and "limit of 3" in err
    code, err = sandbox.cli("run", wf, "--sweep", "1.text=a,b,c,d", "--max-jobs", "4")
    assert code == 0, err
    assert len(list(sandbox.out.glob("t_*.txt"))) == 4


def test_the_queue_stores_a_batchs_workflow_once(sandbox):
    wf = text_workflow(sandbox, "y" * 50_000)
    code, err = sandbox.cli("run", wf, "--sweep", "3.value=1..6")
    assert code == 0, err
    with sqlite3.connect(default_path()) as db:
        copies = db.execute("SELECT COUNT(*), SUM(LENGTH(text)) FROM workflows").fetchone()
        per_job = db.execute("SELECT MAX(LENGTH(workflow)) FROM jobs").fetchone()[0]
    assert copies[0] == 1 and 50_000 < copies[1] < 60_000 and per_job < 100


def test_repeats_of_a_workflow_without_a_seed_run_once_and_say_why(sandbox):
    code, err = sandbox.cli("run", text_workflow(sandbox), "--repeat", "3")
    assert code == 0, err
    assert "identical" in err and "--repeat 3" in err
    assert len(list(sandbox.out.glob("t_*.txt"))) == 1
    assert len((sandbox.out / "index.jsonl").read_text().splitlines()) == 1
