"""The persistent job queue: one SQLite file in the user data folder, shared by GUI and CLI.

SQLite in WAL mode lets several processes read while one writes; every state change is one
`BEGIN IMMEDIATE` transaction, so two runners never claim the same job. A running job records
its owner (host, pid and the process's start time, so a recycled pid is not mistaken for it);
when that process is gone the job is queued again and whatever it had produced is forgotten.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from nodeflow.core.errors import NodeFlowError, one_line
from nodeflow.core.paths import user_dir

FINISHED = ("done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch TEXT NOT NULL,
    number INTEGER NOT NULL,
    position REAL NOT NULL,
    state TEXT NOT NULL,
    name TEXT NOT NULL,
    workflow TEXT NOT NULL,
    workflow_dir TEXT,
    out_dir TEXT NOT NULL,
    overrides TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    seconds REAL,
    outputs TEXT NOT NULL DEFAULT '[]',
    error TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT NOT NULL DEFAULT '',
    owner TEXT,
    key TEXT,
    UNIQUE (batch, number)
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, batch, position);
CREATE TABLE IF NOT EXISTS paused (batch TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS workflows (key TEXT PRIMARY KEY, text TEXT NOT NULL);
"""
#: How a job's `workflow` column points into the `workflows` table, where each workflow text of a
#: batch is stored once (a sweep of 10,000 jobs holds one copy, not 10,000); older rows hold the
#: text itself, which always starts with "{".
_WORKFLOW_REF = "sha256:"


class QueueError(NodeFlowError):
    """The queue's database cannot be opened or written (damaged, locked, disk full); names it."""


class JobNotFound(NodeFlowError):
    """A job id the queue does not hold."""


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue: a workflow snapshot plus what this job overrides."""

    number: int
    name: str
    workflow: str
    overrides: dict[str, Any]
    out_dir: str
    workflow_dir: str | None = None
    #: The caller's own unique name for the job (ComfyUI's prompt_id for `nodeflow serve`), or None.
    key: str | None = None


@dataclass(frozen=True)
class Job:
    id: int
    batch: str
    number: int
    position: float
    state: str
    name: str
    workflow: str
    workflow_dir: str | None
    out_dir: str
    overrides: dict[str, Any]
    created: float
    started: float | None
    finished: float | None
    seconds: float | None
    outputs: list[str]
    error: str
    attempts: int
    worker: str
    key: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        data = dict(row)
        data.pop("owner", None)
        data["overrides"] = json.loads(data["overrides"])
        data["outputs"] = json.loads(data["outputs"])
        return cls(**data)


def default_path() -> Path:
    return user_dir() / "queue.sqlite3"


def this_process() -> str:
    """The owner tag of this process: host, pid and start time (a recycled pid has another)."""
    return f"{socket.gethostname()}:{os.getpid()}:{psutil.Process().create_time():.3f}"


def _owner_alive(owner: str | None) -> bool:
    """Whether the process that claimed a job still runs; jobs of other hosts are assumed alive."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname():
        return True
    try:
        return abs(psutil.Process(int(pid)).create_time() - float(started)) < 0.01
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


class JobStore:
    """The queue. Open one per process (it is thread-safe); each method is one transaction."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else default_path()
        try:
            self._open()
        except (sqlite3.Error, OSError) as exc:
            raise QueueError(f"the job queue {self.path} cannot be opened: {one_line(exc)}; if it is damaged, move "
                             "it aside and NodeFlow starts an empty one") from None
        self.recover()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        with self._write() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            if "key" not in {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}:
                db.execute("ALTER TABLE jobs ADD COLUMN key TEXT")  # a queue from before keys
            db.execute("CREATE UNIQUE INDEX IF NOT EXISTS jobs_key ON jobs (key)")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self):
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # locked by another process past busy_timeout
                raise QueueError(f"the job queue {self.path} is busy: {one_line(exc)}") from None
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[Job]:
        with self._lock:
            return self._jobs(self._db, sql, params)

    @staticmethod
    def _jobs(db: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> list[Job]:
        """Jobs from a query over `jobs`, each with its workflow's text (stored once per batch)."""
        rows = [dict(row) for row in db.execute(sql, tuple(params)).fetchall()]
        texts: dict[str, str] = {}
        for row in rows:
            key = row["workflow"]
            if key.startswith(_WORKFLOW_REF):
                if key not in texts:
                    found = db.execute("SELECT text FROM workflows WHERE key = ?", (key,)).fetchone()
                    texts[key] = found[0] if found is not None else ""
                row["workflow"] = texts[key]
        return [Job.from_row(row) for row in rows]

    # -- adding and reading -------------------------------------------------------------------

    def add(self, batch: str, jobs: list[NewJob]) -> list[int]:
        """Queue `jobs` at the end of the queue, in order; returns their ids."""
        now = time.time()
        ids = []
        keys: dict[str, str] = {}
        with self._write() as db:
            top = db.execute("SELECT COALESCE(MAX(position), 0) FROM jobs").fetchone()[0]
            for offset, job in enumerate(jobs, start=1):
                if job.workflow not in keys:
                    keys[job.workflow] = _WORKFLOW_REF + hashlib.sha256(job.workflow.encode("utf-8")).hexdigest()
                    db.execute("INSERT OR IGNORE INTO workflows (key, text) VALUES (?, ?)",
                               (keys[job.workflow], job.workflow))
                cursor = db.execute(
                    "INSERT INTO jobs (batch, number, position, state, name, workflow, workflow_dir, out_dir,"
                    " overrides, created, key) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
                    (batch, job.number, top + offset, job.name, keys[job.workflow], job.workflow_dir, job.out_dir,
                     json.dumps(job.overrides), now, job.key))
                ids.append(cursor.lastrowid)
        return ids

    def get(self, job_id: int) -> Job:
        rows = self._rows("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            raise JobNotFound(f"no job {job_id} in the queue ({self.path})")
        return rows[0]

    def find(self, key: str) -> Job | None:
        """The job queued under the caller's own name `key` (see `NewJob.key`), or None."""
        rows = self._rows("SELECT * FROM jobs WHERE key = ?", (key,))
        return rows[0] if rows else None

    def jobs(self, batch: str | None = None, states: Iterable[str] | None = None) -> list[Job]:
        """Jobs in queue order (finished ones by the order they were queued in)."""
        where, params = [], []
        if batch is not None:
            where.append("batch = ?")
            params.append(batch)
        if states is not None:
            states = list(states)
            where.append(f"state IN ({', '.join('?' * len(states))})")
            params += states
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return self._rows(f"SELECT * FROM jobs{clause} ORDER BY position, id", params)

    def count(self, batch: str, states: Iterable[str]) -> int:
        """How many jobs of `batch` are in `states` (without reading their workflows)."""
        states = list(states)
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM jobs WHERE batch = ? AND state IN "
                                    f"({', '.join('?' * len(states))})", (batch, *states)).fetchone()[0]

    def has_batch(self, batch: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM jobs WHERE batch = ? LIMIT 1", (batch,)).fetchone() is not None

    def last_number(self, *, batch: str | None = None, out_dir: str | None = None) -> int:
        """The highest job number queued so far in a batch or for an output folder (0 if none)."""
        with self._lock:
            return max(self._db.execute("SELECT COALESCE(MAX(number), 0) FROM jobs WHERE batch = ?",
                                        (batch,)).fetchone()[0],
                       self._db.execute("SELECT COALESCE(MAX(number), 0) FROM jobs WHERE out_dir = ?",
                                        (out_dir,)).fetchone()[0])

    def state(self, job_id: int) -> str:
        return self.get(job_id).state

    def running_here(self, batch: str) -> Job | None:
        """The job of `batch` this process has claimed and not yet finished, or None. The claim is
        the record: a runner learns which job it claimed only after the store has marked it."""
        rows = self._rows("SELECT * FROM jobs WHERE batch = ? AND state = 'running' AND owner = ?"
                          " ORDER BY started DESC LIMIT 1", (batch, this_process()))
        return rows[0] if rows else None

    # -- running ------------------------------------------------------------------------------

    def claim(self, batch: str, choose: Callable[[list[Job]], Job | None] | None = None) -> Job | None:
        """Mark a queued job of `batch` running for this process and return it.

        `choose(queued jobs in order)` lets a runner pick (the job on the checkpoint a worker has
        loaded); by default the head of the queue. None when nothing is queued, the batch is
        paused or `choose` declines.
        """
        with self._write() as db:
            if db.execute("SELECT 1 FROM paused WHERE batch = ?", (batch,)).fetchone():
                return None
            rows = self._jobs(db, "SELECT * FROM jobs WHERE batch = ? AND state = 'queued' ORDER BY position, id",
                              (batch,))
            job = (choose(rows) if choose is not None else rows[0]) if rows else None
            if job is None:
                return None
            db.execute("UPDATE jobs SET state = 'running', started = ?, owner = ?, attempts = attempts + 1,"
                       " error = '' WHERE id = ?", (time.time(), this_process(), job.id))
        return self.get(job.id)

    def finish(self, job_id: int, state: str, outputs: list[str] = (), error: str = "",
               seconds: float | None = None, worker: str = "") -> bool:
        """Record a job's end; False (and nothing changed) if it was cancelled meanwhile."""
        assert state in FINISHED
        with self._write() as db:
            cursor = db.execute(
                "UPDATE jobs SET state = ?, outputs = ?, error = ?, seconds = ?, finished = ?, worker = ?,"
                " owner = NULL WHERE id = ? AND state = 'running'",
                (state, json.dumps(list(outputs)), error, seconds, time.time(), worker, job_id))
            return cursor.rowcount == 1

    def requeue(self, job_id: int, error: str = "") -> None:
        """Put a job back in the queue where it was (a retry, or its runner stopped before it ran)."""
        with self._write() as db:
            db.execute("UPDATE jobs SET state = 'queued', started = NULL, finished = NULL, seconds = NULL,"
                       " outputs = '[]', owner = NULL, error = ? WHERE id = ?", (error, job_id))

    def mark_done(self, batch: str, number: int, outputs: list[str], seconds: float | None) -> None:
        """Record a job the output folder's index already lists as done (after a crash)."""
        with self._write() as db:
            db.execute("UPDATE jobs SET state = 'done', outputs = ?, seconds = ?, owner = NULL,"
                       " finished = COALESCE(finished, ?) WHERE batch = ? AND number = ?",
                       (json.dumps(outputs), seconds, time.time(), batch, number))

    def recover(self) -> list[int]:
        """Queue again every running job whose process died; its partial outputs are dropped."""
        with self._lock:
            running = self._db.execute("SELECT id, owner FROM jobs WHERE state = 'running'").fetchall()
        dead = [row["id"] for row in running if not _owner_alive(row["owner"])]
        for job_id in dead:
            self.requeue(job_id, "its process stopped; queued again")
        return dead

    # -- user actions -------------------------------------------------------------------------

    def cancel(self, job_id: int) -> Job:
        """Cancel a queued or running job (its runner stops it at the next step)."""
        job = self.get(job_id)
        if job.state in FINISHED:
            raise NodeFlowError(f"job {job_id} is already {job.state}")
        with self._write() as db:
            db.execute("UPDATE jobs SET state = 'cancelled', finished = ?, error = 'cancelled', owner = NULL"
                       " WHERE id = ? AND state IN ('queued', 'running')", (time.time(), job_id))
        return self.get(job_id)

    def cancel_batch(self, batch: str) -> int:
        """Cancel every queued job of a batch (the user stopped it); returns how many."""
        with self._write() as db:
            return db.execute("UPDATE jobs SET state = 'cancelled', finished = ?, error = 'cancelled'"
                              " WHERE batch = ? AND state = 'queued'", (time.time(), batch)).rowcount

    def retry(self, job_id: int) -> Job:
        """Queue a failed or cancelled job again, at the end of the queue."""
        job = self.get(job_id)
        if job.state not in ("failed", "cancelled"):
            raise NodeFlowError(f"job {job_id} is {job.state}; only failed or cancelled jobs can be retried")
        with self._write() as db:
            top = db.execute("SELECT COALESCE(MAX(position), 0) FROM jobs").fetchone()[0]
            db.execute("UPDATE jobs SET position = ? WHERE id = ?", (top + 1, job_id))
        self.requeue(job_id)
        return self.get(job_id)

    def move(self, job_id: int, before: int | None) -> None:
        """Reorder: put a queued job just before job `before` (None: at the end of the queue)."""
        with self._write() as db:
            if before is None:
                position = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM jobs").fetchone()[0]
            else:
                row = db.execute("SELECT position FROM jobs WHERE id = ?", (before,)).fetchone()
                if row is None:
                    raise JobNotFound(f"no job {before} in the queue")
                prev = db.execute("SELECT MAX(position) FROM jobs WHERE position < ? AND id != ?",
                                  (row[0], job_id)).fetchone()[0]
                position = (row[0] + (prev if prev is not None else row[0] - 1)) / 2
            db.execute("UPDATE jobs SET position = ? WHERE id = ?", (position, job_id))

    def clear(self, include_queued: bool = False) -> int:
        """Delete finished jobs (and queued ones with `include_queued`); running jobs stay."""
        states = FINISHED + (("queued",) if include_queued else ())
        with self._write() as db:
            count = db.execute(f"DELETE FROM jobs WHERE state IN ({', '.join('?' * len(states))})",
                               states).rowcount
            db.execute("DELETE FROM workflows WHERE key NOT IN (SELECT workflow FROM jobs)")
            return count

    def set_paused(self, batch: str, paused: bool) -> None:
        with self._write() as db:
            if paused:
                db.execute("INSERT OR IGNORE INTO paused (batch) VALUES (?)", (batch,))
            else:
                db.execute("DELETE FROM paused WHERE batch = ?", (batch,))

    def paused(self, batch: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM paused WHERE batch = ?", (batch,)).fetchone() is not None
