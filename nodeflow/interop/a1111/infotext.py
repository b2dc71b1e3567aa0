"""The `parameters` text A1111, Forge and Civitai write into pictures, read into its parts.

The text is the prompt (any number of lines), then optionally a line starting "Negative prompt:"
and the negative prompt's lines, then one line of settings: `Key: value` pairs separated by
commas, where a value holding commas is a JSON string in double quotes (`Lora hashes: "a: 0123,
b: 4567"`) or, as Civitai writes `Hashes`, a flat JSON object. A last line that does not read
as settings belongs to the prompt.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

NEGATIVE = "Negative prompt:"
#: One `Key: value` pair of the settings line; the value is a quoted JSON string, a flat JSON object or
#: runs to the next comma.
_FIELD = re.compile(r'\s*([A-Za-z][\w \-/+.()]*?):\s*("(?:\\.|[^\\"])*"|\{[^{}]*\}|[^,]*)(?:,|$)')
#: A settings line has at least this many pairs (a prompt line with one colon is not one).
MIN_FIELDS = 2
#: The longest parameters text read (A1111's own are a few KB).
MAX_TEXT = 256 * 1024


@dataclass
class Infotext:
    prompt: str = ""
    negative: str = ""
    #: Settings in their order, keys as written ("Steps", "CFG scale", "Lora hashes", ...).
    fields: dict[str, str] = field(default_factory=dict)


def parse(text: str) -> Infotext:
    """The prompt, negative prompt and settings of a parameters text."""
    lines = text[:MAX_TEXT].replace("\r\n", "\n").strip().split("\n")
    info = Infotext()
    settings = parse_fields(lines[-1]) if lines else {}
    if len(settings) >= MIN_FIELDS and ("Steps" in settings or "Seed" in settings or "Sampler" in settings):
        info.fields = settings
        lines = lines[:-1]
    prompt, negative, in_negative = [], [], False
    for line in lines:
        if not in_negative and line.startswith(NEGATIVE):
            in_negative = True
            line = line[len(NEGATIVE):].lstrip()
        (negative if in_negative else prompt).append(line)
    info.prompt, info.negative = "\n".join(prompt).strip(), "\n".join(negative).strip()
    return info


def parse_fields(line: str) -> dict[str, str]:
    """The `Key: value` pairs of a settings line (quoted values unquoted); {} when it has none."""
    found: dict[str, str] = {}
    position = 0
    while position < len(line):
        match = _FIELD.match(line, position)
        if match is None or match.end() == position:
            break
        key, value = match.group(1).strip(), match.group(2).strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        found[key] = str(value)
        position = match.end()
    return found if position >= len(line.rstrip()) else {}


def named_hashes(value: str) -> dict[str, str]:
    """`name: hash, name2: hash2` (the Lora/TI hashes fields) as {name: hash}."""
    out = {}
    for item in value.split(","):
        name, sep, digest = item.rpartition(":")
        if sep and name.strip() and digest.strip():
            out[name.strip()] = digest.strip()
    return out
