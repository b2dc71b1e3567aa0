"""A batch's output folder: final file names, atomic writes, `index.jsonl`, and the batch marker.

Crash safety rests on three rules. Files are written to a temporary name and renamed, so a
reader never sees half a PNG. A job's index line is appended only after all its files are in
place, so a line means "this job is complete". Names depend only on the job number and the name
the node chose, so a job re-run after a crash (its line was never written) replaces its own
files instead of adding a second set. `--resume` therefore skips exactly the jobs with a "done"
line and runs every other one.

Nothing the user had is lost: only a job that ran before (a re-run after a crash) replaces files
under its names; any other job that finds its name taken (a fresh folder holding the user's own
files) writes the next free name. Links are never written through: the index is appended to with
O_NOFOLLOW, and a file whose folder inside `--out` is a link out of it is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from nodeflow.core.atomic import WriteError, atomic_file, write_atomic
from nodeflow.core.errors import NodeFlowError, Problem
from nodeflow.core.outputs import job_file_name

INDEX = "index.jsonl"
#: Which batch the folder's job numbers belong to, so `--resume` can refuse a different one.
MARKER = ".nodeflow-batch.json"


class ResumeError(NodeFlowError):
    """`--resume` was asked for a folder that holds no batch, or a different one."""


class OutputWriteError(NodeFlowError):
    """A file of the batch cannot be written where it belongs (a link in --out, a full disk)."""


@dataclass(frozen=True)
class BatchMarker:
    batch: str  # the store's batch id
    first: int  # number of the batch's first job
    count: int
    key: str  # digest of the batch's workflows and overrides


def batch_key(parts: list[Any]) -> str:
    """A digest of what defines a batch (workflow texts and per-job overrides)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class OutputFolder:
    """The `--out` folder of a batch. Only the driver process writes here."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.index_path = self.root / INDEX

    def _own(self, path: Path) -> Path:
        """`path`, refused if it is a link: the index or marker planted as a link to a file outside
        `--out` would be read (and rewritten into --out) or appended to."""
        if path.is_symlink():
            raise OutputWriteError(f"{path} is a link; NodeFlow does not read or write its batch files through "
                                   "links (remove it, or pick another --out)")
        return path

    def entries(self) -> list[dict[str, Any]]:
        """The index's lines; a torn last line (the writer was killed mid-line) is ignored."""
        try:
            text = self._own(self.index_path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        entries = []
        for line in text.splitlines():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return [e for e in entries if isinstance(e, dict) and isinstance(e.get("job"), int)]

    def done_jobs(self) -> set[int]:
        return {e["job"] for e in self.entries() if e.get("status") == "done"}

    def last_job(self) -> int:
        marker = self.marker()
        numbers = [e["job"] for e in self.entries()] + ([marker.first + marker.count - 1] if marker else [])
        return max(numbers, default=0)

    def marker(self) -> BatchMarker | None:
        try:
            data = json.loads(self._own(self.root / MARKER).read_text(encoding="utf-8"))
            return BatchMarker(str(data["batch"]), int(data["first"]), int(data["count"]), str(data["key"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def start_batch(self, batch: str, count: int, key: str, resume: bool, after: int = 0) -> BatchMarker:
        """The marker of the batch about to run: the folder's own one to resume, or a new one.

        A new batch numbers its jobs after every job the folder already lists (and after `after`,
        the jobs still queued for it), so runs into one folder never overwrite each other's files.
        """
        if resume:
            marker = self.marker()
            if marker is None:
                if self.entries():
                    raise ResumeError(f"--resume: {self.root} has an index but no batch marker ({MARKER})")
                return self._write_marker(BatchMarker(batch, 1, count, key))
            if marker.key != key or marker.count != count:
                raise ResumeError(f"--resume: {self.root} holds a different batch (other workflows, sweeps, "
                                  "--set or --repeat); run it with its own options or pick another --out")
            return marker
        return self._write_marker(BatchMarker(batch, max(self.last_job(), after) + 1, count, key))

    def _write_marker(self, marker: BatchMarker) -> BatchMarker:
        self.root.mkdir(parents=True, exist_ok=True)
        data = {"batch": marker.batch, "first": marker.first, "count": marker.count, "key": marker.key}
        write_atomic(self.root / MARKER, (json.dumps(data) + "\n").encode())
        return marker

    def repair_index(self) -> None:
        """Drop a torn last line so the next append starts on a line of its own."""
        try:
            data = self._own(self.index_path).read_bytes()
        except FileNotFoundError:
            return
        if data and not data.endswith(b"\n"):
            write_atomic(self.index_path, data[: data.rfind(b"\n") + 1])

    def commit(self, number: int, overrides: dict[str, Any], status: str, files: dict[str, bytes],
               seconds: float, error: str, rerun: bool = False,
               saved_by: dict[str, tuple[str, str | None]] | None = None) -> list[str]:
        """Write a finished job's files, then its index line; returns the files' relative names
        (in the order of the sorted keys of `files`).

        `rerun`: the job ran before (and was cut short), so files under its names are its own and
        are replaced; otherwise a taken name is left alone and the next free one is used. A file
        that cannot be written (a full disk) is reported at the node and field `saved_by` names.
        """
        names = []
        for relative, data in sorted(files.items()):
            try:
                names.append(self._write_file(job_file_name(relative, number), data, rerun))
            except (WriteError, OutputWriteError) as exc:
                node_id, field = (saved_by or {}).get(relative, (None, None))
                raise OutputWriteError(str(Problem(str(exc), node_id, field))) from None
        line = {"job": number, "set": overrides, "files": names, "status": status,
                "seconds": round(seconds, 3), "error": error}
        self.root.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(self.index_path, flags, 0o666)
        except OSError as exc:
            why = "it is a link, and NodeFlow does not write through links" if self.index_path.is_symlink() \
                else exc.strerror or str(exc)
            raise OutputWriteError(f"cannot append to {self.index_path}: {why}") from None
        with os.fdopen(fd, "ab") as handle:
            handle.write((json.dumps(line) + "\n").encode())  # one write: a kill leaves whole lines
            handle.flush()
            os.fsync(handle.fileno())
        return names

    def _write_file(self, name: str, data: bytes, replace: bool) -> str:
        """Write `data` as `name` (relative to the folder), or as the next free name; the name used."""
        path = self.root / name
        root = os.path.realpath(self.root)
        path.parent.mkdir(parents=True, exist_ok=True)
        parent = os.path.realpath(path.parent)
        if parent != root and not parent.startswith(root.rstrip(os.sep) + os.sep):
            raise OutputWriteError(f"cannot write {path}: its folder is a link out of {self.root}, and NodeFlow "
                                   "does not write through links")
        if replace:
            write_atomic(path, data)
            return name
        stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
        for attempt in range(1, 10_000):
            candidate = name if attempt == 1 else str(PurePosixPath(name).with_name(f"{stem}-{attempt}{suffix}"))
            try:
                with atomic_file(self.root / candidate, exclusive=True) as handle:
                    handle.write(data)
                return candidate
            except FileExistsError:
                continue
        raise OutputWriteError(f"cannot write {path}: every free name after it is taken")
