"""Fetching models into the library: download, verify, then place in the kind folder.

`fetch_model` takes one `Wanted` model (a URL, and what is known of it: kind, name, sha256, size)
and either places a complete, verified file in the user's folder for its kind or leaves no file
there at all. The order is the promise: the bytes go to a partial file in the user data folder's
`downloads/` (kept across runs, so the next attempt resumes), the finished file's format is read
from its content (`sniff`), its size and sha256 are compared with what was recorded, and only then
is it linked into the kind folder under a checked name (`placement`), never over another file.
`fetch_all` fetches several, each independently: one refused or offline model is one line, and
the others are still fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from nodeflow.core.errors import NodeFlowError
from nodeflow.core.manifest import compute_model_hash
from nodeflow.core.paths import user_dir, user_models_dir
from nodeflow.library import sniff
from nodeflow.library.addresses import FetchRefused
from nodeflow.library.download import Options, Transfer, download
from nodeflow.library.index import HashIndex
from nodeflow.library.kinds import check_kind
from nodeflow.library.placement import SUFFIX_NAMES, clean_name, name_for_format, place, target_in

#: Folder (in the user data folder) of partial downloads, one per URL and kind.
DOWNLOADS = "downloads"


@dataclass(frozen=True)
class Wanted:
    """A model to fetch: where from, and what it must be."""

    kind: str | None  # None: told from the downloaded file's header
    url: str | None
    name: str | None = None  # its library name; None: the server's or the URL's file name
    sha256: str | None = None  # "sha256:<hex>", bare hex, or a prefix of at least 10 hex digits
    size: int | None = None
    typed: bool = False  # the user typed the URL (its host may be local)

    def label(self) -> str:
        """How lines name the model: its kind and name (or the URL's file name)."""
        return f"{self.kind or 'model'}{' model' if self.kind else ''} '{self.short_name()}'"

    def short_name(self) -> str:
        return self.name or unquote(PurePosixPath(urlsplit(self.url or "").path).name) or str(self.url)


@dataclass(frozen=True)
class Fetched:
    """The outcome for one model: its path when it is in the library now, and one line to show."""

    wanted: Wanted
    path: Path | None
    line: str
    verified: bool = False

    @property
    def ok(self) -> bool:
        return self.path is not None


def fetch_all(wanted: Iterable[Wanted], index: HashIndex, options: Options,
              on_start: Callable[[Wanted], None] | None = None,
              on_progress: Callable[[Wanted, Transfer], None] | None = None) -> list[Fetched]:
    """Fetch each model on its own; a refusal or failure becomes that model's line."""
    results = []
    for item in wanted:
        if on_start is not None:
            on_start(item)
        per_file = replace(options, on_progress=(lambda t, item=item: on_progress(item, t)) if on_progress else None)
        try:
            results.append(fetch_model(item, index, per_file))
        except NodeFlowError as exc:
            results.append(Fetched(item, None, f"{item.label()}: {exc}"))
        except OSError as exc:
            results.append(Fetched(item, None, f"{item.label()}: {exc.strerror or exc}"))
    return results


def fetch_model(wanted: Wanted, index: HashIndex, options: Options) -> Fetched:
    """Download, verify and place one model; FetchRefused (one line) when it can't be done."""
    if wanted.kind is not None:
        check_kind(wanted.kind)
    if not wanted.url:
        folder = user_models_dir() / (wanted.kind or "<kind>")
        raise FetchRefused(f"no download URL is recorded for it; put the file in {folder} or fetch it with "
                           "`nodeflow models fetch URL`")
    expected = _expected_hash(wanted.sha256)
    if wanted.name and wanted.kind:
        early = _already_there(wanted, target_in(user_models_dir() / wanted.kind, wanted.name), expected, index)
        if early is not None:
            return early
    part = _part_path(wanted)
    with _only_one(part):
        got = download(wanted.url, part, wanted.size, replace(options, typed=options.typed or wanted.typed))
        try:
            digest = _verify(part, got.format, wanted.size, expected)
            kind = wanted.kind or _detected_kind(part)
        except FetchRefused:
            part.unlink(missing_ok=True)
            raise
        given = wanted.name or _server_name(wanted.url, got.url, got.filename)
        name = name_for_format(clean_name(given), got.format, chosen=wanted.name is not None)
        target = target_in(user_models_dir() / kind, name)
        placed = place(part, target)
        part.unlink(missing_ok=True)
    if not placed:
        if index.sha256(target) != digest:
            raise FetchRefused(f"a different file is already at {target}; it was not replaced "
                               "(choose another name with --name)")
        return Fetched(wanted, target, f"{kind}/{name}: already there ({_verified_words(expected, digest)})",
                       bool(expected))
    index.remember(target, digest)
    index.remember_source(digest, wanted.url)
    return Fetched(wanted, target, f"{kind}/{name}: fetched to {target} ({_verified_words(expected, digest)})",
                   bool(expected))


def _verify(part: Path, fmt: str, size: int | None, expected: str | None) -> str:
    """The finished download's "sha256:<hex>", after its content, size and hash are checked."""
    problem = _verify_content(part, fmt, size)
    if problem:
        raise FetchRefused(f"the downloaded file is damaged: {problem}; deleted")
    digest = compute_model_hash(part, [part])
    if expected and not digest.removeprefix("sha256:").startswith(expected):
        raise FetchRefused(f"sha256 mismatch: expected {expected}, got {digest.removeprefix('sha256:')}; "
                           "the download was deleted")
    return digest


def _detected_kind(part: Path) -> str:
    """The kind a download's header shows (`detect`), for a URL fetched without --kind."""
    from nodeflow.library.detect import identify

    kind = identify(part).kind
    if kind is None:
        raise FetchRefused("its kind cannot be told from its header; give --kind (checkpoints, loras, ...)")
    return kind


@contextmanager
def _only_one(part: Path) -> Iterator[None]:
    """Hold the lock of one partial download, so two processes never write the same partial file."""
    part.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; one NodeFlow at a time is the rule there
        yield
        return
    lock = part.with_suffix(".lock")
    with open(lock, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise FetchRefused("another NodeFlow process is downloading this file right now") from None
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _expected_hash(sha256: str | None) -> str | None:
    """The recorded hash as lowercase hex (a full sha256 or a prefix of at least 10 digits)."""
    if not sha256:
        return None
    text = sha256.strip().lower().removeprefix("sha256:")
    if len(text) < 10 or len(text) > 64 or any(c not in "0123456789abcdef" for c in text):
        raise FetchRefused(f"'{sha256}' is not a sha256 (64 hex digits, or at least the first 10)")
    return text


def _verified_words(expected: str | None, digest: str | None = None) -> str:
    if expected and len(expected) == 64:
        return "sha256 verified"
    if expected:
        return f"verified by its sha256 prefix {expected}"
    return f"not verified: no sha256 was recorded; its sha256 is {(digest or '').removeprefix('sha256:')}"


def _already_there(wanted: Wanted, target: Path, expected: str | None, index: HashIndex) -> Fetched | None:
    """The outcome when the name is taken already: that file if it is the wanted one, else a refusal."""
    if not target.exists():
        return None
    if expected is None:
        raise FetchRefused(f"{target} already exists and no sha256 is given to check it against; "
                           "not replaced (give --sha256, or another --name)")
    if index.sha256(target).removeprefix("sha256:").startswith(expected):
        return Fetched(wanted, target, f"{wanted.kind}/{wanted.name}: already there ({_verified_words(expected)})",
                       True)
    raise FetchRefused(f"a different file is already at {target} (its sha256 is not {expected}); not replaced")


def _part_path(wanted: Wanted) -> Path:
    """The partial file for this URL: the same across runs (with or without --kind), so a download resumes."""
    key = hashlib.sha256(str(wanted.url).encode()).hexdigest()[:24]
    return user_dir() / DOWNLOADS / f"{key}.part"


def _verify_content(path: Path, fmt: str, size: int | None) -> str | None:
    actual = path.stat().st_size
    if size is not None and actual != size:
        return f"it has {actual} bytes, {size} were recorded"
    if fmt == sniff.SAFETENSORS:
        return sniff.check_safetensors(path)
    return None


def _server_name(url: str, final_url: str, header_name: str | None) -> str:
    """The file's name: the server's header, else the URL's last part when it looks like a model
    file, else the last part of the URL redirected to (a download link like /api/download/123)."""
    asked = unquote(PurePosixPath(urlsplit(url).path).name)
    got = unquote(PurePosixPath(urlsplit(final_url).path).name)
    candidates = (header_name, asked if PurePosixPath(asked).suffix.lower() in SUFFIX_NAMES else None, got, asked)
    for candidate in candidates:
        if candidate and candidate.strip():
            return PurePosixPath(candidate.replace("\\", "/")).name or candidate
    raise FetchRefused(f"{url} names no file; give it a name with --name")
