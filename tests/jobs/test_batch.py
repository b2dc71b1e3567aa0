"""`nodeflow run` batches: index.jsonl, file names, numbering across runs, failures, and resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from PIL import Image

from nodeflow.cli import main
from nodeflow.jobs.store import JobStore, default_path
from tests.jobs.conftest import small_txt2img


def lines(out):
    return [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]


def test_sweep_writes_one_index_line_and_named_files_per_job(text_wf, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", str(text_wf), "--out", str(out), "--device", "cpu", "--quiet"]
    assert main(args + ["--sweep", "1.value=1..2", "--sweep", "4.text=a,b"]) == 0
    index = lines(out)
    assert [(e["job"], e["set"], e["status"], e["error"]) for e in index] == [
        (1, {"1.value": 1, "4.text": "a"}, "done", ""), (2, {"1.value": 1, "4.text": "b"}, "done", ""),
        (3, {"1.value": 2, "4.text": "a"}, "done", ""), (4, {"1.value": 2, "4.text": "b"}, "done", "")]
    assert [e["files"] for e in index] == [[f"result_0000{n}_01.txt"] for n in range(1, 5)]
    assert [(out / e["files"][0]).read_text() for e in index] == ["n=1 a", "n=1 b", "n=2 a", "n=2 b"]
    assert all(isinstance(e["seconds"], float) for e in index)
    assert "job 4/4 done" in capsys.readouterr().err

    # a second batch into the same folder numbers on, overwriting nothing
    assert main(args + ["--sweep", "1.value=7", "--set", "4.text=z"]) == 0
    assert lines(out)[-1]["job"] == 5 and (out / "result_00005_01.txt").read_text() == "n=7 z"
    # --zip and --zip with unequal lengths
    assert main(args + ["--sweep", "1.value=1..2", "--sweep", "4.text=p,q", "--zip"]) == 0
    assert [e["set"] for e in lines(out)[-2:]] == [{"1.value": 1, "4.text": "p"}, {"1.value": 2, "4.text": "q"}]
    capsys.readouterr()
    assert main(args + ["--sweep", "1.value=1..3", "--sweep", "4.text=p,q", "--zip"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "differ in length" in err


def test_bad_sweeps_exit_2_with_one_line_before_anything_runs(text_wf, tmp_path, capsys):
    out = tmp_path / "out"
    for option, message in (("1.value=1..x", "a range takes integers"),
                            ("1.value=1,zz", "node 1 input 'value': expected an integer, got 'zz'"),
                            ("8.value=1", "node 8: no such node")):
        assert main(["run", str(text_wf), "--out", str(out), "--sweep", option]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_failed_jobs_are_listed_and_resume_refuses_another_batch(tmp_path, capsys):
    wf = tmp_path / "div.json"
    wf.write_text(json.dumps({
        "format": "nodeflow-workflow", "version": 1,
        "nodes": [{"id": "1", "type": "basic.math", "params": {"a": 1, "b": 1, "operation": "divide"}},
                  {"id": "2", "type": "basic.format_text", "params": {"template": "{a}"}},
                  {"id": "3", "type": "basic.save_text", "params": {"filename_prefix": "q"}}],
        "links": [{"from": ["1", "result"], "to": ["2", "a"]}, {"from": ["2", "text"], "to": ["3", "text"]}]}))
    out = tmp_path / "out"
    assert main(["run", str(wf), "--out", str(out), "--sweep", "1.b=0,2", "--device", "cpu", "--quiet"]) == 1
    failed, done = lines(out)
    assert failed["status"] == "failed" and "divide" in failed["error"] and failed["files"] == []
    assert done["status"] == "done" and (out / done["files"][0]).read_text() == "0.5"
    assert main(["run", str(wf), "--out", str(out), "--sweep", "1.b=4", "--resume"]) == 2
    assert "holds a different batch" in capsys.readouterr().err
    # resuming the same batch runs only the failed job again
    assert main(["run", str(wf), "--out", str(out), "--sweep", "1.b=0,2", "--device", "cpu", "--resume"]) == 1
    assert [e["job"] for e in lines(out)] == [1, 2, 1]
    states = sorted(j.state for j in JobStore().jobs())
    assert states == ["done", "failed"]


def _run_cli(args: list[str]) -> subprocess.Popen:
    code = "import sys\nfrom nodeflow.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def test_a_batch_killed_with_sigkill_resumes_every_job_exactly_once(tmp_path):
    wf = small_txt2img(tmp_path)
    out = tmp_path / "out"
    args = [str(wf), "--out", str(out), "--sweep", "5.seed=1..6", "--device", "cpu", "--quiet"]
    proc = _run_cli(["run", *args])
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "index.jsonl").exists() and len((out / "index.jsonl").read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = len(lines(out))
    assert 2 <= killed_at < 6, "the kill should land mid-batch"
    with sqlite3.connect(default_path()) as db:  # opening a JobStore would already recover it
        running = db.execute("SELECT COUNT(*) FROM jobs WHERE state = 'running'").fetchone()[0]
    assert running <= 1  # the kill may land between two jobs

    resumed = _run_cli(["run", *args, "--resume"])
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"resuming: {killed_at} of 6 jobs already done" in err
    index = lines(out)
    assert sorted(e["job"] for e in index) == [1, 2, 3, 4, 5, 6]
    assert [e["set"] for e in sorted(index, key=lambda e: e["job"])] == [{"5.seed": s} for s in range(1, 7)]
    pngs = sorted(p.name for p in out.rglob("*.png"))
    assert pngs == [f"txt2img_0000{n}_01.png" for n in range(1, 7)]
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    for name in pngs:
        with Image.open(out / name) as image:
            image.load()
            assert image.size == (32, 32)
    assert {j.state for j in JobStore().jobs()} == {"done"}
