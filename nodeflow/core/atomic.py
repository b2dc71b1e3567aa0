"""Writing files so a reader sees the old file or the whole new one, never half of either.

Every file NodeFlow writes (workflows, settings, autosaves, images, text outputs) goes through
`atomic_file`: the bytes go to a hidden temp file in the target's folder, are flushed to disk, and
only then get the final name. A crash, kill -9, SIGTERM or a full disk leaves at most a hidden
`.name.*.tmp` file, never a truncated file under the name the user looks for.

Files are created with mode 0666 filtered by the umask, like any ordinary program's files
(`tempfile.mkstemp` would make them 0600, which a shared folder cannot read).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from nodeflow.core.errors import NodeFlowError
from nodeflow.core.outputs import counted_name, counter_of


def _temp_in(folder: Path, name: str) -> tuple[int, Path]:
    """Create a fresh temp file beside `name` (exclusive create, umask-filtered mode 0666)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


class WriteError(NodeFlowError, OSError):
    """A file that could not be written (full disk, a folder in the way...), naming it in one line."""

    def __str__(self) -> str:
        return str(self.strerror)


@contextmanager
def atomic_file(path: Path, *, exclusive: bool = False) -> Iterator[BinaryIO]:
    """Yield a binary handle whose bytes appear at `path` only when the block finishes.

    With `exclusive`, an existing `path` is never replaced: FileExistsError is raised instead
    (and nothing is left behind), which lets callers pick the next free name. Any other OS error
    becomes a WriteError that names `path` (a bare "No space left on device" names nothing).
    """
    path = Path(path)
    tmp = None
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "it is a folder; name a file inside it", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _temp_in(path.parent, path.name)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            _link_exclusive(tmp, path)
        else:
            os.replace(tmp, path)
    except FileExistsError:
        if exclusive:
            raise
        raise WriteError(17, f"cannot write {path}: it exists", str(path)) from None
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot write {path}: {exc.strerror or exc}", str(path)) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _link_exclusive(tmp: Path, path: Path) -> None:
    """Give `tmp` the name `path` unless that name exists (atomically, where links exist)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: reserve the name, then move over it
        with open(path, "xb"):
            pass
        os.replace(tmp, path)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write text (UTF-8, '\\n' line ends) or bytes to `path` atomically."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_file(path) as handle:
        handle.write(payload)


def write_new(folder: Path, stem: str, suffix: str, write: Callable[[BinaryIO], None]) -> Path:
    """Write a new file `<stem>_<counter><suffix>` in `folder`, never replacing an existing one.

    The counter starts after the highest one already there; if another writer takes a name
    first, the next one is tried. Returns the path written. An OS error (a full disk) becomes a
    WriteError naming the file, and nothing is left under its name.
    """
    folder.mkdir(parents=True, exist_ok=True)
    taken = [counter_of(p.name, stem, suffix) for p in folder.glob(f"{_glob_escape(stem)}_*{suffix}")]
    counter = max((n for n in taken if n is not None), default=0) + 1
    path = folder / counted_name(stem, counter, suffix)
    tmp = None
    try:
        fd, tmp = _temp_in(folder, f"{stem}{suffix}")
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        while True:
            path = folder / counted_name(stem, counter, suffix)
            try:
                _link_exclusive(tmp, path)
                return path
            except FileExistsError:
                counter += 1
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot write {path}: {exc.strerror or exc}", str(path)) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _glob_escape(text: str) -> str:
    """`text` with glob wildcards made literal ('[' would otherwise start a character class)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
