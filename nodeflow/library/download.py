"""One HTTP download into a partial file that survives interruptions.

The bytes go to a partial file outside every model folder (`fetch` decides where and moves the
finished file). A run that finds a partial file from an earlier attempt asks for the rest with an
HTTP Range request; a server that ignores ranges sends the whole file and the partial one starts
over. A connection that drops mid-body is reopened from where it stopped, a bounded number of
times in a row. Nothing here trusts the server: redirects are bounded and each hop's address is
checked (`addresses`), the first bytes must be a model format (`sniff`) before the rest is read,
and no more bytes are read than the recorded size (or the size the server announced).
"""

from __future__ import annotations

import errno
import http.client
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from nodeflow.core.errors import one_line
from nodeflow.library import sniff
from nodeflow.library.addresses import FetchRefused, connect, resolve_host, split_url

#: Redirects followed before giving up (Hugging Face and Civitai need one or two).
MAX_REDIRECTS = 5
#: Reconnects in a row that bring no new byte before a download is given up.
MAX_STALLS = 4
#: Bytes read per chunk.
CHUNK = 1 << 20
#: The most a download may be when neither the workflow nor the server says how big it is.
MAX_UNKNOWN_SIZE = 256 * 1024**3
HF_TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Transfer:
    """How far a download is: bytes so far, total (None when unknown), bytes/second, seconds left."""

    done: int
    total: int | None
    rate: float
    eta: float | None


@dataclass
class Downloaded:
    """What the server told about a finished download."""

    url: str  # the last URL after redirects
    filename: str | None  # the file name the server gave (Content-Disposition), unchecked
    format: str  # sniffed from the first bytes


@dataclass
class Options:
    """How one download may behave."""

    allow_local: bool = False  # any hop may reach private/loopback addresses
    typed: bool = False  # the user typed this URL: its own host may be local (not other hosts it redirects to)
    allow_pickle: bool = False
    timeout: float = 30.0
    max_redirects: int = MAX_REDIRECTS
    on_progress: Callable[[Transfer], None] | None = None


def download(url: str, part: Path, size: int | None, options: Options) -> Downloaded:
    """Fetch `url` into `part`, resuming from `part`'s current length; return what the server said.

    `size` is the recorded size: the server may not offer more. Raises FetchRefused with one line.
    """
    stalls, meter = 0, _Meter(options.on_progress)
    while True:
        have = part.stat().st_size if part.exists() else 0
        try:
            result = _attempt(url, part, have, size, options, meter)
        except FetchRefused as refused:
            if part.exists() and (isinstance(refused, WrongContent) or part.stat().st_size == 0):
                part.unlink()  # not the file wanted, or nothing of it kept: nothing to resume
            raise
        except (OSError, http.client.HTTPException, _StartOver) as exc:
            got = part.stat().st_size if part.exists() else 0
            _refuse_unless_transient(exc, url, got, got > have, options.timeout)
            stalls = 0 if got > have else stalls + 1
            if stalls >= MAX_STALLS:
                raise FetchRefused(f"the connection to {urlsplit(url).hostname} failed {MAX_STALLS} times in a row "
                                   f"({one_line(exc)}); run the command again to resume at {got} bytes") from None
            time.sleep(min(0.2 * stalls, 2.0))
            continue
        meter.finish(part.stat().st_size)
        return result


class WrongContent(FetchRefused):
    """The server's bytes are not the file wanted (format, size, header): the partial file is deleted."""


class _StartOver(Exception):
    """The partial file does not fit the server's file: it was deleted and the download restarts."""


def _refuse_unless_transient(exc: BaseException, url: str, got: int, progressed: bool, timeout: float) -> None:
    """Raise FetchRefused for a failure that trying again will not cure: the disk (full, not
    writable), a malformed response, or a server that sent nothing for `timeout` seconds. A dropped
    connection, or a timeout after some bytes came, is worth a reconnect (the caller counts them)."""
    host = urlsplit(url).hostname
    if isinstance(exc, TimeoutError):
        if not progressed:
            raise FetchRefused(f"{host} sent nothing for {timeout:g} seconds; run the command again to resume "
                               f"at {got} bytes") from None
        return
    if isinstance(exc, _StartOver | http.client.IncompleteRead | ConnectionError):
        return
    if isinstance(exc, http.client.HTTPException):
        raise FetchRefused(f"{host} sent a malformed HTTP response ({type(exc).__name__})") from None
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        raise FetchRefused(f"the disk is full; {got} bytes were kept, run the command again to resume") from None
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNREFUSED):
        return
    raise FetchRefused(f"{type(exc).__name__}: {one_line(exc)}") from None


def _attempt(url: str, part: Path, have: int, size: int | None, options: Options, meter: _Meter) -> Downloaded:
    response, final = _open(url, have, options)
    try:
        status = response.status
        if status == 416 and have:  # asked past the end: complete if the server's size is ours
            total = _content_range_total(response.getheader("Content-Range", ""))
            if total == have and (size is None or size == have):
                return Downloaded(final, _filename(response), _sniff_file(part, url, options))
            part.unlink()
            raise _StartOver("the partial file does not fit the server's file; starting over")
        if status not in (200, 206):
            raise FetchRefused(_status_line(status, response.reason, final))
        if status == 206:
            start = _content_range_start(response.getheader("Content-Range", ""))
            if start != have:
                raise WrongContent(f"{urlsplit(final).hostname} sent a range of the file that was not asked for "
                                   f"(from byte {start}, asked from {have})")
        else:
            have = 0  # a whole file: the partial one starts over
        _refuse_html_type(response, url)
        length = response.getheader("Content-Length")
        announced = have + int(length) if length and length.isdigit() else None
        if size is not None and announced is not None and announced > size:
            raise WrongContent(f"the server offers {announced} bytes but {size} were recorded for this file; "
                               "refusing a different file")
        limit = size if size is not None else announced if announced is not None else MAX_UNKNOWN_SIZE
        meter.start(have, limit if size is not None or announced is not None else None)
        fmt = _receive(response, part, have, limit, url, options, meter)
        return Downloaded(final, _filename(response), fmt)
    finally:
        response.close()


def _open(url: str, have: int, options: Options) -> tuple[http.client.HTTPResponse, str]:
    """The response for `url` after at most `max_redirects` redirects, each hop's address checked."""
    current, typed_host = url, split_url(url).hostname if options.typed else None
    for _hop in range(options.max_redirects + 1):
        parts = split_url(current)
        address = resolve_host(parts, options.allow_local or parts.hostname == typed_host)
        conn = connect(parts, address, options.timeout)
        headers = {"User-Agent": "NodeFlow", "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        token = _hf_token(parts.hostname or "", parts.scheme)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        if response.status not in _REDIRECTS:
            return response, current
        location = response.getheader("Location")
        response.close()
        conn.close()
        if not location:
            raise FetchRefused(f"{parts.hostname} redirected without saying where to")
        following = urljoin(current, location)
        if parts.scheme == "https" and urlsplit(following).scheme != "https":
            raise FetchRefused(f"{parts.hostname} redirected from https to a plain http URL; refused")
        current = following
    raise FetchRefused(f"more than {options.max_redirects} redirects starting from {url}")


def _hf_token(host: str, scheme: str) -> str | None:
    """The Hugging Face token, sent only over https to huggingface.co itself."""
    if scheme != "https" or not (host == "huggingface.co" or host.endswith(".huggingface.co")):
        return None
    for name in HF_TOKEN_VARIABLES:
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    return None


def _status_line(status: int, reason: str, url: str) -> str:
    host = urlsplit(url).hostname
    line = f"{host} answered HTTP {status} {reason}".rstrip()
    if status in (401, 403) and host and host.endswith("huggingface.co"):
        line += "; a gated model needs a token: accept its licence on the model page and set HF_TOKEN"
    elif status == 404:
        line += "; the URL names no file"
    return line


def html_hint(url: str) -> str:
    """How to turn a page URL into the file's download URL (the copied `/blob/` link)."""
    parts = urlsplit(url)
    if "/blob/" in parts.path and parts.hostname == "github.com":
        return f"use the raw file link {url.replace('/blob/', '/raw/', 1)}"
    if "/blob/" in parts.path:
        return f"use the download link {url.replace('/blob/', '/resolve/', 1)} ('/resolve/', not '/blob/')"
    return "use the file's direct download link (on Hugging Face '/resolve/' instead of '/blob/')"


def _refuse_html_type(response: http.client.HTTPResponse, url: str) -> None:
    kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        raise WrongContent(f"{url} is a web page, not a model file; {html_hint(url)}")


def _receive(response: http.client.HTTPResponse, part: Path, have: int, limit: int, url: str,
             options: Options, meter: _Meter) -> str:
    """Append the body to `part` (after truncating it to `have`); sniff the first bytes before
    writing them; stop reading at `limit`, which a safetensors header lowers to the size it
    declares, and refuse a body that goes past it."""
    part.parent.mkdir(parents=True, exist_ok=True)
    fmt = _sniff_file(part, url, options) if have else None
    _check_room(part.parent, limit - have if limit != MAX_UNKNOWN_SIZE else 0, have)
    bounded = fmt is not None and fmt != sniff.SAFETENSORS
    with part.open("r+b" if part.exists() else "wb") as handle:
        handle.truncate(have)
        handle.seek(have)
        head, done, checked = b"", have, have
        while done < limit:
            chunk = response.read1(min(CHUNK, limit - done))  # what has arrived: progress as it comes
            if not chunk:
                break
            if fmt is None:
                head += chunk
                if len(head) < sniff.SNIFF_BYTES and done + len(head) < limit:
                    continue  # too few bytes to tell yet
                fmt = _check_format(sniff.sniff(head), url, options)
                bounded = fmt != sniff.SAFETENSORS
                chunk, head = head, b""
            handle.write(chunk)
            done += len(chunk)
            meter.update(done)
            if not bounded:
                handle.flush()
                declared = _declared_size(part, done)
                if declared is not None:
                    limit, bounded = _bound(declared, done, limit, url), True
            if done - checked >= 64 * CHUNK:
                _check_room(part.parent, 0, done)
                checked = done
        if head:
            fmt = _check_format(sniff.sniff(head), url, options)
            handle.write(head)
            done += len(head)
        if done >= limit and response.read(1):
            raise WrongContent(f"the server sent more than the {limit} bytes expected; refused and deleted")
        owed = response.length if response.length else limit - done if limit != MAX_UNKNOWN_SIZE else 0
        if owed > 0:  # the body ended early: the connection dropped, resume
            raise http.client.IncompleteRead(b"", owed)
    if fmt is None:
        raise WrongContent(f"{url} sent an empty file")
    return fmt


#: Free space a download leaves on its disk.
FREE_MARGIN = 256 * 1024 * 1024


def _check_room(folder: Path, need: int, done: int) -> None:
    """Refuse a download that would leave less than FREE_MARGIN free on the disk (the bytes so far are kept)."""
    free = shutil.disk_usage(folder).free
    if free - need < FREE_MARGIN:
        raise FetchRefused(f"not enough disk space in {folder}: {free // 2**20} MiB free, {need // 2**20} MiB more "
                           f"needed; {done} bytes were kept, free some space and run the command again to resume")


def _declared_size(part: Path, done: int) -> int | None:
    """The whole file's size its safetensors header declares, once the header has arrived."""
    with part.open("rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
    if done < 8 + length:
        return None
    return sniff.safetensors_size(part)


def _bound(declared: int, done: int, limit: int, url: str) -> int:
    """The new read limit from a safetensors header's declared size, or FetchRefused when the header
    contradicts what was recorded or announced (a damaged or padded file)."""
    if declared == -1:
        raise WrongContent(f"{url} is not a valid safetensors file (its header is damaged)")
    if declared > limit and limit != MAX_UNKNOWN_SIZE:
        raise WrongContent(f"the file's safetensors header says {declared} bytes but {limit} were expected")
    if declared < done:
        raise WrongContent(f"the server sent more than the {declared} bytes the file's header declares")
    return declared


def _sniff_file(part: Path, url: str, options: Options) -> str:
    with part.open("rb") as handle:
        return _check_format(sniff.sniff(handle.read(sniff.SNIFF_BYTES)), url, options)


def _check_format(fmt: str, url: str, options: Options) -> str:
    if fmt in sniff.SAFE_FORMATS or (fmt == sniff.PICKLE and options.allow_pickle):
        return fmt
    if fmt == sniff.HTML:
        raise WrongContent(f"{url} is a web page, not a model file; {html_hint(url)}")
    if fmt == sniff.PICKLE:
        raise WrongContent(f"{url} is {sniff.describe(fmt)}; only safetensors and GGUF are fetched "
                           "(--allow-pickle accepts it; NodeFlow loads pickles without running their code)")
    raise WrongContent(f"{url} is {sniff.describe(fmt)}; only safetensors and GGUF files are fetched")


def _filename(response: http.client.HTTPResponse) -> str | None:
    """The file name in Content-Disposition (RFC 6266 `filename*` or `filename`), or None."""
    header = response.getheader("Content-Disposition") or ""
    star = re.search(r"filename\*\s*=\s*[^']*'[^']*'([^;]+)", header, re.IGNORECASE)
    if star:
        return unquote(star.group(1).strip().strip('"'))
    plain = re.search(r'filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)', header, re.IGNORECASE)
    if plain:
        return (plain.group(1) if plain.group(1) is not None else plain.group(2)).strip()
    return None


def _content_range_start(header: str) -> int | None:
    found = re.match(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)", header)
    return int(found.group(1)) if found else None


def _content_range_total(header: str) -> int | None:
    found = re.match(r"\s*bytes\s+[^/]*/(\d+)", header)
    return int(found.group(1)) if found else None


class _Meter:
    """Bytes, rate and ETA for the progress callback, at most five times a second."""

    def __init__(self, callback: Callable[[Transfer], None] | None):
        self.callback = callback
        self.total: int | None = None
        self.began, self.first, self.last = time.monotonic(), 0, 0.0

    def start(self, have: int, total: int | None) -> None:
        self.began, self.first, self.total = time.monotonic(), have, total

    def update(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if self.callback is None or (not force and now - self.last < 0.2):
            return
        self.last = now
        rate = (done - self.first) / max(now - self.began, 1e-6)
        eta = (self.total - done) / rate if self.total is not None and rate > 0 else None
        self.callback(Transfer(done, self.total, rate, eta))

    def finish(self, done: int) -> None:
        self.total = done if self.total is None else self.total
        self.update(done, force=True)
