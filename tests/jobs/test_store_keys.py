"""Jobs a caller names (the server's prompt_id), counts without reading workflows, and old queues."""

from __future__ import annotations

import sqlite3

import pytest

from nodeflow.jobs.store import JobStore, NewJob


def test_a_job_is_found_by_its_key_and_a_key_is_taken_once(tmp_path):
    store = JobStore(tmp_path / "q.sqlite3")
    ids = store.add("serve", [NewJob(1, "a", "{}", {}, "/out", key="k-1"), NewJob(2, "b", "{}", {}, "/out")])
    assert store.find("k-1").id == ids[0] and store.find("k-1").key == "k-1"
    assert store.find("nope") is None and store.get(ids[1]).key is None
    with pytest.raises(sqlite3.IntegrityError):
        store.add("serve", [NewJob(3, "c", "{}", {}, "/out", key="k-1")])
    store.add("serve", [NewJob(4, "d", "{}", {}, "/out")])  # many jobs without a key are fine
    assert store.count("serve", ["queued"]) == 3
    store.claim("serve")
    assert store.count("serve", ["queued", "running"]) == 3 and store.count("serve", ["running"]) == 1
    assert store.count("other", ["queued"]) == 0


def test_a_queue_from_before_keys_gains_the_column_and_keeps_its_jobs(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, batch TEXT NOT NULL, number INTEGER NOT NULL,
            position REAL NOT NULL, state TEXT NOT NULL, name TEXT NOT NULL, workflow TEXT NOT NULL,
            workflow_dir TEXT, out_dir TEXT NOT NULL, overrides TEXT NOT NULL, created REAL NOT NULL,
            started REAL, finished REAL, seconds REAL, outputs TEXT NOT NULL DEFAULT '[]',
            error TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0, worker TEXT NOT NULL DEFAULT '',
            owner TEXT, UNIQUE (batch, number));
        INSERT INTO jobs (batch, number, position, state, name, workflow, out_dir, overrides, created)
            VALUES ('b', 1, 1, 'queued', 'wf', '{}', '/out', '{}', 0);
    """)
    db.close()
    store = JobStore(path)
    assert [(j.number, j.key) for j in store.jobs("b")] == [(1, None)]
    store.add("b", [NewJob(2, "wf", "{}", {}, "/out", key="p")])
    assert store.find("p").number == 2
