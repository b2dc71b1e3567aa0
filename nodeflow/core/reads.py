"""The read rule: which files a workflow may make NodeFlow read, and how a named file is read.

A workflow is data anyone can share, and the files it names (a Load Image picture, a model path)
are read with the rights of whoever runs it. So a name counts only inside the *input roots*: the
workflow's own folder tree, the user data folder's `input/`, the configured folders (model
folders, ComfyUI installs' `input/`, `--allow-read DIR` and the `allow_read` setting) and single
files the user named (on the command line, or picked in the editor). An absolute path or a `..`
that leaves them, and a link inside them that points out, is refused with one line saying how to
allow it. Validation, the run and the server all ask the same `ReadRule`, built by the model
library (`ModelLibrary.read_rule`), so the answer never depends on who asks.

A network service holds names to more (`ReadRule.for_network`): a prompt from a client may name a
file only by a relative name that stays in the folder it is looked up in (no absolute path, '..',
'~', backslash or NUL), because whoever sends it does not own this machine's other folders even
where the local rule would allow them. The same rule object answers, with that policy set.

Files are looked at with `stat` before anything opens them: a FIFO, socket or device named as an
input would block (or never end) the first read, so it is refused by its type, and every read of
a named file goes through `read_bounded`, which stops at a size limit instead of at memory.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path, PurePath

from nodeflow.core.errors import shown

#: What a special file is called in a refusal, by its `stat` type test.
_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                  (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class ReadRefused(ValueError):
    """A named file that may not be read, or not this way; the message says why in one line."""


def special_kind(path: Path) -> str | None:
    """'a FIFO (named pipe)', 'a socket', ... for a special file, None for anything else (or nothing).

    Uses `stat` only: opening a FIFO for reading blocks until someone writes to it.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return next((name for test, name in _SPECIAL_KINDS if test(mode)), None)


def contained_name(name: str) -> bool:
    """Whether `name` is a relative name that cannot leave the folder it is looked up in."""
    if "\x00" in name or "\\" in name:
        return False
    path = PurePath(name)
    return not path.is_absolute() and ".." not in path.parts and not name.startswith("~")


def _real(path: Path) -> str:
    return os.path.realpath(os.path.expanduser(str(path)))


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class ReadRule:
    """The input roots (folders: their whole tree; files: only themselves), with links resolved."""

    roots: tuple[str, ...]
    #: How the user allows another folder, for the refusal's last words.
    hint: str = "run with --allow-read DIR"
    #: The network policy: names must be relative and stay in their folder (`contained_name`).
    relative_names: bool = False

    @classmethod
    def of(cls, roots: list[Path] | tuple[Path, ...], hint: str = "run with --allow-read DIR") -> ReadRule:
        unique = dict.fromkeys(_real(root) for root in roots)
        return cls(tuple(unique), hint)

    def for_network(self, hint: str) -> ReadRule:
        """This rule as a network service applies it: names relative only, `hint` saying what to do."""
        return replace(self, relative_names=True, hint=hint)

    def name_refusal(self, named: str) -> str | None:
        """Why the name itself is refused (before any file is looked for), or None."""
        if "\x00" in named:
            return f"'{_short(named)}' is not a file name (it holds a NUL character)"
        if self.relative_names and not contained_name(named):
            return (f"'{_short(named)}' is an absolute path or leaves its folder ('..', '~' or a backslash); "
                    f"{self.hint}")
        return None

    def allows(self, path: Path) -> bool:
        """Whether `path` (after following every link in it) is inside one of the roots."""
        real = _real(path)
        return any(_inside(real, root) for root in self.roots)

    def refusal(self, path: Path, named: str) -> str | None:
        """Why the file a workflow called `named` (found at `path`) may not be read, or None.

        Special files are refused wherever they are; a path outside the roots is refused even
        when it does not exist, so a refusal never tells a stranger whether a file is there.
        """
        shown = _short(named)
        if (problem := self.name_refusal(named)) is not None:
            return problem
        if "\x00" in str(path):
            return f"'{shown}' is not a file name (it holds a NUL character)"
        kind = special_kind(path)
        if kind is not None:
            return f"'{shown}' is {kind}, not a file: NodeFlow reads only regular files and folders"
        if not self.allows(path):
            return (f"'{shown}' is outside the folders this workflow may read (its own folder, the "
                    f"input folders); to allow {_short(str(Path(_real(path)).parent))}, {self.hint}")
        return None

    def check(self, path: Path, named: str) -> Path:
        """`path` if it may be read; raise ReadRefused otherwise."""
        problem = self.refusal(path, named)
        if problem is not None:
            raise ReadRefused(problem)
        return path


def _short(text: str) -> str:
    return shown(text, 120)


def read_bounded(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes; ReadRefused (naming the path) otherwise.

    The type is checked before opening (a FIFO would block), and the read stops at `limit + 1`
    bytes, so a file that grows while it is read (or lies about its size) cannot exhaust memory.
    """
    path = Path(path)
    kind = special_kind(path)
    if kind is not None:
        raise ReadRefused(f"{what} {_short(str(path))} is {kind}, not a file")
    try:
        # O_NONBLOCK: a FIFO swapped in after the check above still cannot block the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as handle:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise ReadRefused(f"{what} {_short(str(path))} is a folder, not a file")
            if not stat.S_ISREG(mode):
                raise ReadRefused(f"{what} {_short(str(path))} is not a regular file")
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ReadRefused(f"cannot read {_short(str(path))}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ReadRefused(f"{what} {_short(str(path))} is larger than {_size(limit)}, the most NodeFlow reads")
    return data


def _size(count: int) -> str:
    if count >= 2**20:
        return f"{count // 2**20} MiB"
    return f"{count // 2**10} KiB" if count >= 2**10 else f"{count} bytes"


def resolve_for_header(name: str, search_dirs: tuple[Path, ...]) -> Path:
    """Where a file a node's declaration reads the header of (a picture's size, a model's shapes)
    is, as `core.paths.resolve_path` finds it; ReadRefused for a FIFO, socket or device, which the
    header read would block on (the editor's memory estimate asks after every edit)."""
    from nodeflow.core.paths import resolve_path

    path = resolve_path(name, search_dirs)
    kind = special_kind(path)
    if kind is not None:
        raise ReadRefused(f"'{_short(name)}' is {kind}, not a file")
    return path
