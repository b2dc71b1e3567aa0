"""Ray runner on one local 2-CPU cluster shared by this module: local pixels, retries, driver-written files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from nodeflow.core import CancelToken, files
from nodeflow.core import registry as registry_module
from nodeflow.jobs.batch import Source
from nodeflow.jobs.driver import BatchOptions, run_batch
from nodeflow.jobs.store import JobStore
from nodeflow.jobs.sweep import parse_sweep
from tests.jobs.conftest import small_txt2img

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def batch(path, out, sweeps, **options):
    graph = files.load(path, registry_module.default_registry())[0]
    return run_batch([Source(path.name, graph, path.parent)], [parse_sweep(s) for s in sweeps],
                     BatchOptions(out=out, device="cpu", **options), CancelToken())


def test_ray_gives_the_same_files_and_pixels_as_a_local_run(cluster, tmp_path):
    wf = small_txt2img(tmp_path, steps=4)
    local = batch(wf, tmp_path / "local", ["5.seed=3..6"])
    remote = batch(wf, tmp_path / "ray", ["5.seed=3..6"], ray="local", workers=2)
    assert (local.done, remote.done) == (4, 4)
    index = {}
    for name in ("local", "ray"):
        lines = [json.loads(line) for line in (tmp_path / name / "index.jsonl").read_text().splitlines()]
        index[name] = {e["job"]: (e["set"], e["files"], e["status"]) for e in lines}
    assert index["ray"] == index["local"]
    for _, names, _ in index["local"].values():
        assert np.array_equal(pixels(tmp_path / "local" / names[0]), pixels(tmp_path / "ray" / names[0]))
    workers = {j.worker for j in JobStore().jobs() if j.out_dir == str(tmp_path / "ray")}
    assert len(workers) == 2 and "local" not in workers


FLAKY_NODE = '''
import os
from pathlib import Path
from nodeflow.core import Input, Node, NodeError


class FailsOncePerMarker(Node):
    type_id = "test.fails_once"
    title = "Fails Once"
    is_output = True
    inputs = (Input("marker", "STRING", default=""), Input("tag", "INT", default=0))
    outputs = ()

    def run(self, ctx, marker, tag):
        path = Path(marker)
        if not path.exists():
            path.write_text(str(os.getpid()))
            raise NodeError("first try fails")
        ctx.write_output("flaky", ".txt", lambda handle: handle.write(str(os.getpid()).encode()))
        return {}
'''


def plugin_workflow(tmp_path, monkeypatch, source: str, type_id: str, params: dict):
    """A one-node workflow of a plugin node defined by `source`, installed in a fresh NodeFlow home
    (the workers inherit the environment, so they load it too)."""
    home = tmp_path / "home"
    (home / "nodes").mkdir(parents=True)
    (home / "nodes" / "plugin.py").write_text(source)
    monkeypatch.setenv("NODEFLOW_HOME", str(home))
    monkeypatch.setattr(registry_module, "_default", None)
    wf = tmp_path / "plugin.json"
    wf.write_text(json.dumps({"format": "nodeflow-workflow", "version": 1, "nodes": [
        {"id": "1", "type": type_id, "params": params}], "links": []}))
    return wf


def test_a_failing_job_is_retried_once_on_another_worker(cluster, tmp_path, monkeypatch):
    wf = plugin_workflow(tmp_path, monkeypatch, FLAKY_NODE, "test.fails_once", {"marker": ""})
    out = tmp_path / "out"
    # job 1 fails on its first worker and succeeds on the retry; job 2's marker can't be written: fails twice
    summary = batch(wf, out, ["1.marker=" + ",".join([str(tmp_path / "once"), str(tmp_path / "never" / "x" / "y")])],
                    ray="local", workers=2)
    assert (summary.done, summary.failed) == (1, 1)
    lines = {e["job"]: e for e in map(json.loads, (out / "index.jsonl").read_text().splitlines())}
    assert lines[1]["status"] == "done" and lines[1]["files"] == ["flaky_00001_01.txt"]
    failed_in, succeeded_in = (tmp_path / "once").read_text(), (out / lines[1]["files"][0]).read_text()
    assert failed_in != succeeded_in, "the retry should run on the other worker"
    assert lines[2]["status"] == "failed" and "No such file" in lines[2]["error"]
    jobs = {j.number: j for j in JobStore().jobs()}
    assert jobs[1].state == "done" and jobs[2].state == "failed"


BUDGET_PROBE = '''
from nodeflow.core import Input, Node


class BudgetProbe(Node):
    type_id = "test.budget_probe"
    title = "Budget Probe"
    is_output = True
    inputs = (Input("tag", "INT", default=0),)
    outputs = ()

    def run(self, ctx, tag):
        budget = str(getattr(ctx.models, "budget", None)).encode()
        ctx.write_output("budget", ".txt", lambda handle: handle.write(budget))
        return {}
'''


def test_ray_workers_keep_models_under_the_batchs_memory_budget(cluster, tmp_path, monkeypatch):
    """`run --ray --memory-budget SIZE`: every worker's memory manager has the budget, not the
    free memory of its own machine."""
    wf = plugin_workflow(tmp_path, monkeypatch, BUDGET_PROBE, "test.budget_probe", {})
    summary = batch(wf, tmp_path / "out", ["1.tag=1..4"], ray="local", workers=2, memory_budget=123_456_789)
    assert summary.done == 4
    assert {p.read_text() for p in (tmp_path / "out").glob("budget_*.txt")} == {"123456789"}
