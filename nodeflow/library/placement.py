"""Where a fetched model goes: a checked name inside its kind folder, never over another file.

A name comes from a workflow, a URL or a server's Content-Disposition header, all of which a
stranger wrote, so it is normalised (backslashes become '/', '.' and empty parts dropped) and
refused if it is absolute, climbs with '..', starts a part with '.', holds control characters or
':', or resolves (through symlinks already on disk) outside the kind folder. The finished file
gets its name with a hard link, which fails when the name exists, so a file already there is
never replaced; on a file system without links (or across devices) it is copied through
`core.atomic`'s exclusive write.
"""

from __future__ import annotations

import errno
import os
import unicodedata
from pathlib import Path, PurePosixPath

from nodeflow.core.atomic import atomic_file
from nodeflow.library import sniff
from nodeflow.library.addresses import FetchRefused

#: File name endings each sniffed format may carry; the first is given to a name that has none.
SUFFIXES = {
    sniff.SAFETENSORS: (".safetensors", ".sft"),
    sniff.GGUF: (".gguf",),
    sniff.PICKLE: (".ckpt", ".pt", ".pth", ".bin", ".pkl"),
}
#: Every ending above.
SUFFIX_NAMES = tuple(s for group in SUFFIXES.values() for s in group)
MAX_NAME = 200


def clean_name(name: str) -> str:
    """`name` as a relative 'a/b.safetensors' path, or FetchRefused saying why it can't be one."""
    text = unicodedata.normalize("NFC", str(name)).replace("\\", "/").strip()
    if not text:
        raise FetchRefused("the model has no file name")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text):
        raise FetchRefused(f"model name {text!r} holds control characters")
    if text.startswith(("/", "~")) or (len(text) >= 2 and text[1] == ":"):
        raise FetchRefused(f"model name '{text}' is an absolute path; it must stay inside its kind folder")
    parts = [p.strip() for p in text.split("/") if p.strip() not in ("", ".")]
    if any(p == ".." for p in parts):
        raise FetchRefused(f"model name '{text}' climbs out of its kind folder ('..')")
    if any(p.startswith(".") or ":" in p for p in parts) or not parts:
        raise FetchRefused(f"model name '{text}' has a hidden part or a ':'")
    clean = "/".join(parts)
    if len(clean) > MAX_NAME:
        raise FetchRefused(f"model name is {len(clean)} characters long; at most {MAX_NAME} are allowed")
    return clean


def name_for_format(name: str, fmt: str, chosen: bool) -> str:
    """`name` with an ending that matches the file's content. A name the user or workflow chose
    must already have one (FetchRefused otherwise); a name from a URL or server gets one."""
    allowed = SUFFIXES[fmt]
    if PurePosixPath(name).suffix.lower() in allowed:
        return name
    if chosen:
        raise FetchRefused(f"'{name}' is named like another format, but the file is {fmt} "
                           f"(name it {PurePosixPath(name).stem}{allowed[0]})")
    if PurePosixPath(name).suffix.lower() in SUFFIX_NAMES:
        return str(PurePosixPath(name).with_suffix(allowed[0]))
    return name + allowed[0]


def target_in(kind_folder: Path, name: str) -> Path:
    """The path for `name` inside `kind_folder`, refused if it resolves outside (a symlinked part)."""
    root = Path(kind_folder).resolve()
    target = root / PurePosixPath(clean_name(name))
    folder = target.parent.resolve()
    if folder != root and root not in folder.parents:
        raise FetchRefused(f"model name '{name}' leads outside {root}")
    if target.is_symlink():
        raise FetchRefused(f"{target} is a symbolic link; refusing to write through it")
    return folder / target.name


def place(part: Path, target: Path) -> bool:
    """Give the finished file `part` the name `target` without replacing anything there.
    False when `target` already exists (the caller compares it); `part` is then left as is."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(part, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EOPNOTSUPP):
            raise
        try:
            with atomic_file(target, exclusive=True) as out, part.open("rb") as source:
                for block in iter(lambda: source.read(1 << 20), b""):
                    out.write(block)
        except FileExistsError:
            return False
    part.unlink()
    return True
