"""The job queue: shared by processes, recovers jobs of dead ones, and the user's queue actions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nodeflow.core.errors import NodeFlowError
from nodeflow.jobs.store import JobNotFound, JobStore, NewJob

CLAIMER = textwrap.dedent("""
    import json, sys, time
    from nodeflow.jobs.store import JobStore
    store = JobStore(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    claimed = []
    while (job := store.claim("b")) is not None:
        time.sleep(0.01)
        store.finish(job.id, "done", [f"{job.number}.png"], seconds=0.01, worker=sys.argv[2])
        claimed.append(job.number)
    print(json.dumps(claimed), flush=True)
""")


def new_jobs(count: int, batch_out: str = "/tmp/out") -> list[NewJob]:
    return [NewJob(n, "wf.json", "{}", {"5.seed": n}, batch_out) for n in range(1, count + 1)]


def test_two_processes_share_the_queue_without_running_a_job_twice(tmp_path):
    path = tmp_path / "queue.sqlite3"
    store = JobStore(path)
    store.add("b", new_jobs(60))
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, str(path), f"w{i}"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for i in range(2)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    claimed = [json.loads(proc.communicate(timeout=60)[0].strip().splitlines()[-1]) for proc in procs]
    assert sorted(claimed[0] + claimed[1]) == list(range(1, 61))
    assert claimed[0] and claimed[1], "both processes should have taken jobs"
    jobs = store.jobs("b")
    assert {j.state for j in jobs} == {"done"} and all(j.attempts == 1 for j in jobs)
    assert {j.worker for j in jobs} == {"w0", "w1"}


def test_a_dead_process_s_running_job_is_queued_again_without_its_outputs(tmp_path):
    path = tmp_path / "queue.sqlite3"
    store = JobStore(path)
    store.add("b", new_jobs(2))
    code = ("import os, signal, sys\nfrom nodeflow.jobs.store import JobStore\n"
            "s = JobStore(sys.argv[1]); job = s.claim('b'); print(job.id, flush=True)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL
    job_id = int(done.stdout.strip())
    assert store.get(job_id).state == "running"
    assert store.recover() == [job_id]
    job = store.get(job_id)
    assert job.state == "queued" and job.outputs == [] and "process stopped" in job.error
    mine = store.claim("b")
    assert mine.id == job_id and mine.attempts == 2
    assert store.recover() == []  # this process is alive: its job stays running


def test_user_actions(tmp_path):
    store = JobStore(tmp_path / "queue.sqlite3")
    ids = store.add("gui", new_jobs(4))
    store.move(ids[3], before=ids[0])
    assert [j.id for j in store.jobs("gui")] == [ids[3], ids[0], ids[1], ids[2]]
    store.move(ids[3], before=None)
    assert [j.id for j in store.jobs("gui")][-1] == ids[3]
    store.set_paused("gui", True)
    assert store.paused("gui") and store.claim("gui") is None
    store.set_paused("gui", False)
    running = store.claim("gui")
    assert running.id == ids[0]
    assert store.cancel(ids[1]).state == "cancelled"
    assert store.cancel(running.id).state == "cancelled"
    assert not store.finish(running.id, "done", ["x.png"])  # a cancelled job stays cancelled
    with pytest.raises(NodeFlowError, match="already cancelled"):
        store.cancel(ids[1])
    retried = store.retry(ids[1])
    assert retried.state == "queued" and store.jobs("gui", ["queued"])[-1].id == ids[1]
    with pytest.raises(NodeFlowError, match="only failed or cancelled"):
        store.retry(ids[2])
    assert store.clear() == 1  # the cancelled one; queued jobs stay
    assert store.clear(include_queued=True) == 3
    with pytest.raises(JobNotFound, match="no job"):
        store.get(ids[0])


def test_the_queue_lives_in_the_user_folder_in_wal_mode():
    store = JobStore()
    assert store.path.parent == Path(os.environ["NODEFLOW_HOME"])
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_running_here_is_the_job_this_process_claimed_in_that_batch(tmp_path):
    store = JobStore(tmp_path / "q.sqlite3")
    store.add("b", new_jobs(2))
    store.add("other", new_jobs(1))
    assert store.running_here("b") is None
    job = store.claim("b")
    assert store.running_here("b").id == job.id and store.running_here("other") is None
    store.finish(job.id, "done")
    assert store.running_here("b") is None
