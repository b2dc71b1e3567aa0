"""What a model file's bytes are, told from the content and never from the name or the server.

A download is accepted as a model only if its first bytes are a safetensors header or a GGUF
magic; a pickle (`.ckpt`, `.pt`, `.bin`: a zip written by `torch.save`, or a bare pickle stream)
only when the user asked for it; an HTML page (a copied Hugging Face `/blob/` link, a login or
error page) never. The checks read at most `SNIFF_BYTES` from the start, so they run on the first
bytes of a download, before the rest is fetched, and again on the finished file.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

#: How many leading bytes the sniffer looks at.
SNIFF_BYTES = 64
#: The largest safetensors JSON header accepted (the format's own readers stop at 100 MB).
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024

SAFETENSORS, GGUF, PICKLE, HTML, UNKNOWN = "safetensors", "gguf", "pickle", "html", "unknown"
#: Formats a fetched file may have without asking.
SAFE_FORMATS = (SAFETENSORS, GGUF)

_HTML_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<!--", b"<meta", b"<script", b"<title")


def sniff(head: bytes) -> str:
    """The format of a file that starts with `head` (at least the first 16 bytes when there are)."""
    if len(head) >= 9 and head[8:9] == b"{":
        length = struct.unpack("<Q", head[:8])[0]
        if 2 <= length <= MAX_SAFETENSORS_HEADER:
            return SAFETENSORS
    if head[:4] == b"GGUF" and len(head) >= 8 and 1 <= struct.unpack("<I", head[4:8])[0] <= 16:
        return GGUF
    if head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        return PICKLE  # torch.save writes a zip around a pickle; older files are a bare pickle stream
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(_HTML_STARTS):
        return HTML
    return UNKNOWN


def describe(kind: str) -> str:
    """How a refusal names a format."""
    return {PICKLE: "a pickle (.ckpt/.pt/.bin: loading one can run code)", HTML: "an HTML page",
            UNKNOWN: "neither safetensors nor GGUF"}.get(kind, kind)


def check_safetensors(path: Path) -> str | None:
    """Why the finished file at `path` is not a whole safetensors file (None when it is): its JSON
    header must parse, and the tensors' data must end exactly where the file does (a truncated or
    padded download fails this)."""
    size = path.stat().st_size
    declared = safetensors_size(path)
    if declared == -1:
        return "its safetensors header is damaged (not JSON, or tensors without data offsets)"
    if declared != size:
        return f"its tensors need {declared} bytes but the file has {size}"
    return None


def safetensors_size(path: Path) -> int:
    """The size a safetensors file's header declares (header plus the end of the last tensor's
    data), read from the file's start; -1 when the header is damaged."""
    with path.open("rb") as handle:
        length = struct.unpack("<Q", handle.read(8))[0]
        if length > MAX_SAFETENSORS_HEADER:
            return -1
        try:
            header = json.loads(handle.read(length))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return -1
    if not isinstance(header, dict):
        return -1
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            return -1
        end = max(end, offsets[1])
    return 8 + length + end
