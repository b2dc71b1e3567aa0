"""A model file's tensor names, shapes and metadata, read from its header without torch.

safetensors: an 8-byte little-endian length, then a JSON object of tensors (dtype, shape, data
offsets) and an optional `__metadata__` of strings (kohya's `ss_*`, `modelspec.*`). GGUF: magic,
version, counts, key-value metadata, then each tensor's name, dimensions, type and offset. Both
are read with bounds on every count and length, because the file may come from anyone; what
cannot be read gives None rather than an exception.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from nodeflow.library import sniff

#: Bounds for hostile GGUF headers.
MAX_GGUF_ITEMS = 100_000
MAX_GGUF_STRING = 1 << 20


@dataclass
class Header:
    format: str  # sniff.SAFETENSORS or sniff.GGUF
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    #: Bytes before the tensors' data (the header), for the AutoV3 hash.
    data_offset: int = 0


def read_header(path: Path) -> Header | None:
    """The header of a safetensors or GGUF file, or None for anything else or a damaged header."""
    try:
        with Path(path).open("rb") as handle:
            fmt = sniff.sniff(handle.read(sniff.SNIFF_BYTES))
            handle.seek(0)
            if fmt == sniff.SAFETENSORS:
                return _safetensors(handle)
            if fmt == sniff.GGUF:
                return _gguf(handle)
    except (OSError, ValueError, struct.error, UnicodeDecodeError, RecursionError):
        return None
    return None


def _safetensors(handle: BinaryIO) -> Header | None:
    length = struct.unpack("<Q", handle.read(8))[0]
    if length > sniff.MAX_SAFETENSORS_HEADER:
        return None
    data = json.loads(handle.read(length))
    if not isinstance(data, dict):
        return None
    meta = data.pop("__metadata__", None)
    header = Header(sniff.SAFETENSORS, data_offset=8 + length)
    if isinstance(meta, dict):
        header.metadata = {str(k): str(v) for k, v in meta.items()}
    for name, entry in data.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if isinstance(shape, list) and all(isinstance(d, int) for d in shape):
            header.shapes[name] = tuple(shape)
    return header


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def _gguf(handle: BinaryIO) -> Header | None:
    magic, version = struct.unpack("<4sI", handle.read(8))
    if version < 2:
        return None  # version 1 used 32-bit counts; nothing writes it any more
    tensors, kvs = struct.unpack("<QQ", handle.read(16))
    if tensors > MAX_GGUF_ITEMS or kvs > MAX_GGUF_ITEMS:
        return None
    header = Header(sniff.GGUF)
    for _ in range(kvs):
        key = _string(handle)
        value = _value(handle, struct.unpack("<I", handle.read(4))[0])
        if isinstance(value, str | int | float | bool):
            header.metadata[key] = str(value)
    for _ in range(tensors):
        name = _string(handle)
        dims = struct.unpack("<I", handle.read(4))[0]
        if dims > 8:
            return None
        shape = struct.unpack(f"<{dims}Q", handle.read(8 * dims))
        handle.read(12)  # type, offset
        header.shapes[name] = tuple(reversed(shape))  # GGUF lists the fastest dimension first
    header.data_offset = handle.tell()
    return header


def _string(handle: BinaryIO) -> str:
    length = struct.unpack("<Q", handle.read(8))[0]
    if length > MAX_GGUF_STRING:
        raise ValueError("GGUF string too long")
    return handle.read(length).decode("utf-8")


def _value(handle: BinaryIO, kind: int) -> object:
    if kind in _SCALARS:
        fmt = _SCALARS[kind]
        return struct.unpack(fmt, handle.read(struct.calcsize(fmt)))[0]
    if kind == 8:
        return _string(handle)
    if kind == 9:
        item, count = struct.unpack("<IQ", handle.read(12))
        if count > 10 * MAX_GGUF_ITEMS:
            raise ValueError("GGUF array too long")
        for _ in range(count):
            _value(handle, item)  # tokenizer vocabularies: skipped, only scalars are kept
        return None
    raise ValueError(f"unknown GGUF value type {kind}")
