"""The hash index: each model's sha256 computed once and kept in SQLite across runs.

A row is keyed by the model's resolved path and is valid while its size and mtime (for a
diffusers folder: total size and newest mtime of its files) are unchanged; a touched or replaced
file is hashed again. The hash itself is `core.manifest`'s (one rule for what a model's hash is),
so hashes recorded in workflow manifests and in this index agree.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from nodeflow.core.manifest import compute_model_hash, model_files, stat_key
from nodeflow.core.paths import user_dir
from nodeflow.library.hashes import file_hashes
from nodeflow.library.header import read_header
from nodeflow.library.sniff import SAFETENSORS

INDEX_FILE = "model-index.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hashes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    hashed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS autov3 (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    autov3 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    sha256 TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
"""


class HashIndex:
    """sha256 of model files and folders, read from SQLite when size and mtime still match.

    `hashed` counts the models this instance had to read byte by byte (tests check that a second
    scan reads none). Safe to share between threads; each call opens its own connection.
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else user_dir() / INDEX_FILE
        self.hashed = 0
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.executescript(_SCHEMA)
        return con

    def _stored(self, key: tuple[str, int, int]) -> str | None:
        with self._lock:
            con = self._connect()
            try:
                row = con.execute("SELECT size, mtime_ns, sha256 FROM hashes WHERE path = ?", (key[0],)).fetchone()
            finally:
                con.close()
        return row[2] if row is not None and (row[0], row[1]) == key[1:] else None

    def known(self, path: Path) -> str | None:
        """The stored hash if it is still valid, without reading the model."""
        path = Path(path)
        return self._stored(stat_key(path, model_files(path)))

    def sha256(self, path: Path) -> str:
        """"sha256:<hex>" of a model file or diffusers folder, computed only if not indexed yet."""
        path = Path(path)
        files = model_files(path)
        key = stat_key(path, files)
        stored = self._stored(key)
        if stored is not None:
            return stored
        if path.is_file():  # one read gives the AutoV3 hash of a safetensors file too
            digest, data_hash = file_hashes(path)
            if data_hash is not None:
                self._store_autov3(key, data_hash)
        else:
            digest = compute_model_hash(path, files)  # outside the lock: big files take minutes
        self.hashed += 1
        self._store(key, digest)
        return digest

    def autov3(self, path: Path, compute: bool = True) -> str | None:
        """The full AutoV3 hash of a safetensors file (see `hashes`), None for other files; read once.
        With `compute` False, only a stored one (None when it was never computed)."""
        path = Path(path)
        if not path.is_file():
            return None
        key = stat_key(path, [path])
        with self._lock:
            con = self._connect()
            try:
                row = con.execute("SELECT size, mtime_ns, autov3 FROM autov3 WHERE path = ?", (key[0],)).fetchone()
            finally:
                con.close()
        if row is not None and (row[0], row[1]) == key[1:]:
            return row[2]
        header = read_header(path) if compute else None
        if header is None or header.format != SAFETENSORS:
            return None
        digest, data_hash = file_hashes(path)
        self._store(key, digest)
        self._store_autov3(key, data_hash)
        return data_hash

    def _store_autov3(self, key: tuple[str, int, int], data_hash: str) -> None:
        with self._lock:
            con = self._connect()
            try:
                with con:
                    con.execute("INSERT OR REPLACE INTO autov3 VALUES (?, ?, ?, ?)", (*key, data_hash))
            finally:
                con.close()

    def _store(self, key: tuple[str, int, int], digest: str) -> None:
        with self._lock:
            con = self._connect()
            try:
                with con:
                    con.execute("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?)",
                                (key[0], key[1], key[2], digest, time.time()))
            finally:
                con.close()

    def remember(self, path: Path, digest: str) -> None:
        """Store a hash computed elsewhere (a download hashed as it was verified), so it is not read again."""
        path = Path(path)
        self._store(stat_key(path, model_files(path)), digest)

    def remember_source(self, digest: str, url: str) -> None:
        """Where the model with this hash was fetched from, so workflows that use it can record it."""
        with self._lock:
            con = self._connect()
            try:
                with con:
                    con.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)", (digest, url, time.time()))
            finally:
                con.close()

    def source(self, digest: str) -> str | None:
        """The URL the model with this hash was fetched from, or None."""
        with self._lock:
            con = self._connect()
            try:
                row = con.execute("SELECT url FROM sources WHERE sha256 = ?", (digest,)).fetchone()
            finally:
                con.close()
        return row[0] if row else None
