"""Class 3: kill -9, SIGTERM or a second Ctrl+C in the middle of a save leave no partial file,
and SIGTERM / Ctrl+C twice end `nodeflow run` with one line and no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SLOW_SAVER = '''
import os, time
from pathlib import Path
from nodeflow.core import Input, Node
from nodeflow.core.types import INT, STRING

class SlowSave(Node):
    """Writes 400 KB in 1 KB pieces, 5 ms apart, and says when it is half-way."""
    type_id = "hostile.slow_save"
    title = "Slow Save"
    is_output = True
    inputs = (Input("pieces", INT, default=400),
              Input("filename_prefix", STRING, default="slow", output_prefix=True))

    def run(self, ctx, pieces, filename_prefix):
        def write(handle):
            for i in range(pieces):
                handle.write(b"x" * 1024)
                handle.flush()
                if i == pieces // 2:
                    Path(os.environ["NODEFLOW_TEST_MARK"]).write_text("half")
                time.sleep(0.005)
        ctx.write_output(filename_prefix, ".bin", write)
        return {}
'''


def start(tmp_path: Path, pieces: int = 400) -> tuple[subprocess.Popen, Path, Path]:
    home = tmp_path / "home"
    (home / "nodes").mkdir(parents=True)
    (home / "nodes" / "slow_saver.py").write_text(SLOW_SAVER)
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps({"format": "nodeflow-workflow", "version": 1, "links": [],
                              "nodes": [{"id": "1", "type": "hostile.slow_save", "params": {"pieces": pieces}}]}))
    out, mark = tmp_path / "out", tmp_path / "mark"
    env = dict(os.environ, NODEFLOW_HOME=str(home), NODEFLOW_TEST_MARK=str(mark))
    code = "import sys; from nodeflow.cli import main; sys.exit(main())"
    proc = subprocess.Popen([sys.executable, "-c", code, "run", str(wf), "--out", str(out), "--device", "cpu",
                             "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, out, mark


def wait_for(mark: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not mark.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the save never started"
        time.sleep(0.01)


def saved(out: Path) -> list[Path]:
    """The outputs under their final names (index.jsonl and the batch marker are not outputs)."""
    return sorted(out.rglob("*.bin")) if out.exists() else []


def test_a_finished_save_is_whole(tmp_path):
    proc, out, _ = start(tmp_path, pieces=10)
    assert proc.wait(timeout=60) == 0, proc.communicate()
    files = saved(out)
    assert len(files) == 1 and files[0].name.startswith("slow_") and files[0].stat().st_size == 10 * 1024


def test_kill_9_mid_save_leaves_no_partial_file(tmp_path):
    proc, out, mark = start(tmp_path)
    wait_for(mark, proc)
    proc.kill()
    proc.wait(timeout=30)
    assert saved(out) == []


def test_sigterm_mid_save_stops_with_one_line(tmp_path):
    proc, out, mark = start(tmp_path)
    wait_for(mark, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.strip()] == [
        "nodeflow: stopped by SIGTERM; files being written were discarded"]
    assert saved(out) == [] and not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # temp gone too


def test_second_ctrl_c_mid_save_stops_cleanly(tmp_path):
    proc, out, mark = start(tmp_path, pieces=2000)
    wait_for(mark, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGINT
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().endswith("nodeflow: stopped by a second Ctrl+C; files being written were discarded")
    assert saved(out) == []
