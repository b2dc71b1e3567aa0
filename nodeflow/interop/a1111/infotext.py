"""The `parameters` text A1111, Forge and Civitai write into pictures, read into its parts.

The text is the prompt (any number of lines), then optionally a line starting "Negative prompt:"
and the negative prompt's lines, then one line of settings: `Key: value` pairs separated by
commas, where a value holding commas is a JSON string in double quotes (`Lora hashes: "a: 0123,
b: 4567"`) or, as Civitai writes `Hashes` and `Civitai resources`, a JSON object or array. A
last line that does not read as settings belongs to the prompt.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

NEGATIVE = "Negative prompt:"
#: The key of one `Key: value` pair of the settings line.
_KEY = re.compile(r"\s*([A-Za-z][\w \-/+.()]*?):\s*")
_JSON = json.JSONDecoder()
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
    """The `Key: value` pairs of a settings line: a value is a JSON string, object or array
    (Civitai's `Hashes` and `Civitai resources`) or runs to the next comma. A piece that is no
    pair is skipped, as A1111 does; {} when the line holds none."""
    found: dict[str, str] = {}
    position = 0
    while position < len(line):
        match = _KEY.match(line, position)
        if match is None:
            comma = line.find(",", position)
            position = len(line) if comma < 0 else comma + 1
            continue
        key, position = match.group(1).strip(), match.end()
        value, position = _value(line, position)
        found[key] = value
        comma = line.find(",", position)
        position = len(line) if comma < 0 else comma + 1
    return found


def _value(line: str, position: int) -> tuple[str, int]:
    """The value starting at `position` (JSON when it starts like JSON and parses) and where it ends."""
    if line.startswith(('"', "{", "["), position):
        try:
            value, end = _JSON.raw_decode(line, position)
        except ValueError:
            pass
        else:
            return (value if isinstance(value, str) else line[position:end]), end
    comma = line.find(",", position)
    end = len(line) if comma < 0 else comma
    return line[position:end].strip(), end


def named_hashes(value: str) -> dict[str, str]:
    """`name: hash, name2: hash2` (the Lora/TI hashes fields) as {name: hash}."""
    out = {}
    for item in value.split(","):
        name, sep, digest = item.rpartition(":")
        if sep and name.strip() and digest.strip():
            out[name.strip()] = digest.strip()
    return out
