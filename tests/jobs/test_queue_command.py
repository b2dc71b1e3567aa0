"""`nodeflow queue list|show|cancel|retry|clear` on the shared store in the user folder."""

from __future__ import annotations

import json

from nodeflow.cli import main
from nodeflow.jobs.store import JobStore, NewJob


def test_queue_commands(capsys):
    store = JobStore()
    first, second = store.add("b1", [NewJob(n, "wf.json", "{}", {"5.seed": n}, "/tmp/out") for n in (1, 2)])
    store.finish(store.claim("b1").id, "failed", error="node 5 (Sampler): boom", seconds=1.5)

    assert main(["queue", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "failed" in lines[0] and "5.seed=1" in lines[0] and "boom" in lines[0]
    assert main(["queue", "list", "--state", "queued", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(j["id"], j["job"], j["set"]) for j in listed] == [(second, 2, {"5.seed": 2})]
    assert main(["queue", "show", str(first)]) == 0
    shown = capsys.readouterr().out
    assert "state: failed" in shown and "error: node 5 (Sampler): boom" in shown

    assert main(["queue", "retry", str(first)]) == 0 and store.get(first).state == "queued"
    assert main(["queue", "cancel", str(second)]) == 0 and store.get(second).state == "cancelled"
    capsys.readouterr()
    assert main(["queue", "cancel", str(second)]) == 2
    assert capsys.readouterr().err.strip() == f"error: job {second} is already cancelled"
    assert main(["queue", "show", "999"]) == 2
    assert "no job 999 in the queue" in capsys.readouterr().err
    assert main(["queue", "clear"]) == 0 and capsys.readouterr().out.strip() == "removed 1 jobs"
    assert main(["queue", "clear", "--all"]) == 0 and store.jobs() == []
