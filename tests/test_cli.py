"""The `nodeflow` command: exit codes, one-line errors, overrides, listing, and no heavy imports."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nodeflow.cli import main

WORKFLOW = {
    "format": "nodeflow-workflow", "version": 1,
    "nodes": [{"id": "1", "type": "basic.int", "params": {"value": 4}},
              {"id": "2", "type": "basic.format_text", "params": {"template": "n={a}"}},
              {"id": "3", "type": "basic.save_text", "params": {"filename_prefix": "result"}}],
    "links": [{"from": ["1", "value"], "to": ["2", "a"]}, {"from": ["2", "text"], "to": ["3", "text"]}],
}


@pytest.fixture
def wf(tmp_path) -> Path:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(WORKFLOW))
    return path


def test_run_writes_outputs_and_applies_overrides(wf, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(wf), "--out", str(out), "--device", "cpu", "--set", "1.value=7", "--repeat", "2"]) == 0
    saved = sorted(out.glob("result_*.txt"))
    assert [p.read_text() for p in saved] == ["n=7"]  # second repeat has no seed to change: cached
    assert main(["run", str(wf), "--out", str(out), "--device", "cpu", "--set", "1.value=8"]) == 0
    assert sorted(p.read_text() for p in out.glob("result_*.txt")) == ["n=7", "n=8"]


def test_run_names_the_final_files_never_the_jobs_scratch_folder(wf, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(wf), "--out", str(out), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    [written] = sorted(out.glob("result_*.txt"))
    assert f"saved {written}" in err.splitlines()
    assert "nodeflow-job-" not in err


def test_invalid_workflow_exits_2_with_one_line_per_problem(wf, tmp_path, capsys):
    bad = dict(WORKFLOW, links=[])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert main(["run", str(path), "--device", "cpu", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "node 3 input 'text': has no value and is not linked" in err and "Traceback" not in err
    path.write_text("{broken")
    assert main(["validate", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["run", str(wf), "--set", "1.value=x", "--device", "cpu"]) == 2
    assert "node 1 input 'value': expected an integer, got 'x'" in capsys.readouterr().err


def test_node_failure_exits_1(tmp_path, capsys):
    failing = {"format": "nodeflow-workflow", "version": 1,
               "nodes": [{"id": "1", "type": "basic.math", "params": {"a": 1, "b": 0, "operation": "divide"}},
                         {"id": "2", "type": "basic.show"}],
               "links": [{"from": ["1", "result"], "to": ["2", "value"]}]}
    path = tmp_path / "fail.json"
    path.write_text(json.dumps(failing))
    assert main(["run", str(path), "--device", "cpu", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "node 1 (Math)" in err and "divide" in err and "Traceback" not in err


def test_validate_and_nodes_do_not_import_torch(wf):
    code = (
        "import sys\n"
        "from nodeflow.cli import main\n"
        f"assert main(['validate', {str(wf)!r}]) == 0\n"
        "assert main(['nodes', '--json']) == 0\n"
        "assert 'torch' not in sys.modules and 'PySide6' not in sys.modules, 'heavy import'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout.split("\n", 1)[1])
    types = {n["type"]: n for n in listing}
    assert types["basic.math"]["inputs"][2]["choices"][0] == "add"


def test_core_and_engine_import_neither_torch_nor_qt():
    code = ("import nodeflow.core, nodeflow.engine, sys; "
            "assert 'torch' not in sys.modules and 'PySide6' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
