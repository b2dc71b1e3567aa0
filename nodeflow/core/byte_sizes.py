"""Byte sizes as people write and read them: "6GB" in, "17.2 GB" out, everywhere NodeFlow
prints or reads one (the memory plan, `nodeflow models`, the editor, the server).

Decimal units (GB = 1000**3), as disk and card vendors print them; GiB (1024**3) is read too.
"""

from __future__ import annotations

import re

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """Bytes from "6GB", "512MB", "1.5GiB" or "1000000"; ValueError naming the text otherwise.

    GB is 1000**3 and GiB 1024**3, as disk and card vendors print them.
    """
    match = _SIZE.match(str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f"'{text}' is not a size (write e.g. 6GB, 512MB, 1.5GiB)")
    size = int(float(match.group(1)) * _UNITS[unit])
    if size <= 0:
        raise ValueError(f"'{text}' is not a positive size")
    return size


def format_bytes(count: float) -> str:
    """A byte count as people read it: '512 MB', '17.2 GB' (decimal units, like disk tools)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit in ("B", "KB") else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"
