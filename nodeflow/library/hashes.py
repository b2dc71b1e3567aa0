"""The short hashes other tools print, so a model named by any of them is found.

- sha256: of the whole file (`core.manifest`), what Hugging Face and Civitai publish.
- AutoV2: its first 10 hex digits; A1111/Forge write it as `Model hash` in a picture's parameters.
- AutoV3: the first 12 hex digits of the sha256 of a safetensors file's data after its header
  (so editing the metadata keeps it); A1111 writes it for LoRAs (`Lora hashes`), Civitai lists it.
- AutoV1: the first 8 hex digits of the sha256 of 64 KiB at offset 1 MiB; A1111 before 2023.

`file_hashes` reads a file once for both full hashes; the index stores them (`HashIndex`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from nodeflow.library import sniff
from nodeflow.library.header import read_header

AUTOV2_DIGITS, AUTOV3_DIGITS, AUTOV1_DIGITS = 10, 12, 8


def file_hashes(path: Path) -> tuple[str, str | None]:
    """("sha256:<hex>", full AutoV3 hex or None) of a model file, reading it once."""
    header = read_header(path)
    start = header.data_offset if header is not None and header.format == sniff.SAFETENSORS else None
    whole, data = hashlib.sha256(), hashlib.sha256()
    done = 0
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            whole.update(block)
            if start is not None and done + len(block) > start:
                data.update(block[max(start - done, 0):])
            done += len(block)
    return "sha256:" + whole.hexdigest(), data.hexdigest() if start is not None else None


def autov1(path: Path) -> str:
    """A1111's old 8-digit model hash."""
    with Path(path).open("rb") as handle:
        handle.seek(0x100000)
        return hashlib.sha256(handle.read(0x10000)).hexdigest()[:AUTOV1_DIGITS]


def autov2(sha256: str) -> str:
    return sha256.removeprefix("sha256:")[:AUTOV2_DIGITS]


def normal_hash(text: str) -> str | None:
    """A hash as written anywhere ("sha256:AB..", "ab..", "[ab..]") as lowercase hex, or None."""
    clean = text.strip().strip("[]()").lower().removeprefix("sha256:").removeprefix("0x")
    if len(clean) >= AUTOV1_DIGITS and all(c in "0123456789abcdef" for c in clean) and len(clean) <= 64:
        return clean
    return None
