"""The output rule: every file a run writes stays inside the output folder the user chose.

A shared workflow is untrusted input, and its file-name prefixes are part of it. A prefix is
normalised first (backslashes become '/', each part is stripped of surrounding spaces, empty and
'.' parts dropped), then refused if it is absolute, names a drive, climbs with '..', holds control
characters, or resolves (through symlinks) outside the output folder. The same rule runs at
validation, before any node runs, and again when a saver writes, through `RunContext`.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path, PurePosixPath

DEFAULT_PREFIX = "nodeflow"
#: Longest prefix accepted (characters, after normalising); file systems stop at 255 per name.
MAX_PREFIX = 200
#: Longest part of a prefix in UTF-8 bytes: file systems allow 255 bytes per name, and a saved
#: file's name adds up to 40 to the prefix (counter, job number, suffix, the temp file's marks).
MAX_PART_BYTES = 200


#: How saved files are numbered: `<prefix>_00001.png` by a saver, and `<prefix>_<job>_<nn>.png`
#: once a batch's driver puts the job number in (see `counted_name` and `job_file_name`).
COUNTER_DIGITS = 5
IMAGE_DIGITS = 2


def counted_name(stem: str, counter: int, suffix: str) -> str:
    """The name a saver gives its `counter`-th file: `txt2img_00002.png`."""
    return f"{stem}_{counter:0{COUNTER_DIGITS}d}{suffix}"


def counter_of(name: str, stem: str, suffix: str) -> int | None:
    """The counter in a file name `counted_name` made for `stem` and `suffix`, else None."""
    if not (name.startswith(stem + "_") and name.endswith(suffix)):
        return None
    digits = name[len(stem) + 1: len(name) - len(suffix)]
    return int(digits) if digits.isdigit() else None


def job_file_name(relative: str, number: int) -> str:
    """The name a job's file gets in a batch's output folder: the saver's name with the job number
    in it. `txt2img_00002.png` (the second image a Save Image node made) of job 7 becomes
    `txt2img_00007_02.png`; sub-folders in the node's prefix are kept."""
    path = PurePosixPath(relative)
    stem, _, counter = path.stem.rpartition("_")
    if stem and counter.isdigit():
        name = f"{stem}_{number:0{COUNTER_DIGITS}d}_{int(counter):0{IMAGE_DIGITS}d}"
    else:
        name = f"{path.stem}_{number:0{COUNTER_DIGITS}d}"
    return str(path.with_name(name + path.suffix))


class OutputPathError(ValueError):
    """A prefix or output folder that breaks the output rule; the message says which part."""


def normalise_prefix(prefix: str) -> str:
    """`prefix` as a clean relative path ('a/b'), or OutputPathError saying why it can't be one."""
    if not isinstance(prefix, str):
        raise OutputPathError(f"expected text, got {type(prefix).__name__}")
    text = unicodedata.normalize("NFC", prefix).replace("\\", "/").strip()
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text):
        raise OutputPathError("the prefix holds control characters")
    if text.startswith("/") or text.startswith("~") or (len(text) >= 2 and text[1] == ":"):
        raise OutputPathError("the prefix must name a file inside the output folder, not an absolute path")
    parts = [part.strip() for part in text.split("/")]
    if any(part == ".." or part.strip(". ") == "" and part not in ("", ".") for part in parts):
        raise OutputPathError("the prefix must stay inside the output folder ('..' is not allowed)")
    parts = [part for part in parts if part not in ("", ".")]
    if any(":" in part for part in parts):
        raise OutputPathError("the prefix may not contain ':'")
    clean = "/".join(parts) or DEFAULT_PREFIX
    if len(clean) > MAX_PREFIX:
        raise OutputPathError(f"the prefix is {len(clean)} characters long; at most {MAX_PREFIX} are allowed")
    longest = max((len(part.encode("utf-8")) for part in parts), default=0)
    if longest > MAX_PART_BYTES:
        raise OutputPathError(f"a name in the prefix is {longest} bytes long in UTF-8; file systems allow 255 per "
                              f"name and the saved file adds its counter, so at most {MAX_PART_BYTES} are allowed")
    return clean


def output_target(output_dir: Path, prefix: str) -> tuple[Path, str]:
    """(folder, file stem) that `prefix` names inside `output_dir`, checked against the rule.

    The folder is resolved through existing symlinks, so a link inside the output folder that
    points elsewhere is refused too.
    """
    clean = normalise_prefix(prefix)
    root = Path(output_dir).expanduser().resolve()
    relative = PurePosixPath(clean)
    folder = (root / relative.parent).resolve()
    if folder != root and root not in folder.parents:
        raise OutputPathError(f"the prefix leads outside the output folder {root}")
    return folder, relative.name


def output_dir_problem(output_dir: Path) -> str | None:
    """Why files cannot be written to `output_dir` (None when they can): it must be a writable
    folder, or not exist yet below a writable folder (it is created when the first file is saved).
    """
    path = Path(output_dir).expanduser()
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return f"output folder {path}: no existing parent folder"
        probe = probe.parent
    if not probe.is_dir():
        where = "is a file" if probe == path else f"cannot be created: {probe} is a file"
        return f"output folder {path} {where}, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "is not writable" if probe == path else f"cannot be created: {probe} is not writable"
        return f"output folder {path} {where}"
    return None
