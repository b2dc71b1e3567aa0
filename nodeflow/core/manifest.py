"""The reproducibility manifest a workflow carries: what it last ran with, and what has drifted.

After a run the engine records the app, Python, torch and diffusers versions and a hash of each
model file used. On load, `runtime_drift` compares those versions with this machine (cheaply, from
package metadata; nothing heavy is imported), and the engine compares model hashes when a model is
loaded again, so "why does my image look different?" has an answer.
"""

from __future__ import annotations

import functools
import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

TRACKED_PACKAGES = ("nodeflow", "torch", "diffusers", "transformers")
_MODEL_SUFFIXES = {".safetensors", ".json", ".txt", ".bin", ".ckpt", ".pt", ".pth", ".model"}


@functools.cache  # package metadata lookups cost ~1 ms each; versions don't change
def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def current_runtime() -> dict[str, str]:
    runtime = {"python": platform.python_version()}
    runtime |= {name: package_version(name) for name in TRACKED_PACKAGES}
    return runtime


def runtime_drift(manifest: dict[str, Any]) -> list[str]:
    """One message per recorded version that differs from this machine's."""
    recorded = manifest.get("runtime")
    if not isinstance(recorded, dict):
        return []
    now = current_runtime()
    return [
        f"last run with {name} {was}, this machine has {now.get(name, 'not installed')}"
        for name, was in sorted(recorded.items())
        if name in now and now[name] != was
    ]


def model_files(path: Path) -> list[Path]:
    """The files whose bytes identify a model: the file itself, or a diffusers folder's weight
    and config files in name order."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _MODEL_SUFFIXES)


def stat_key(path: Path, files: list[Path]) -> tuple[str, int, int]:
    """(resolved path, total size, newest mtime): when this changes, the hash must be recomputed."""
    return (str(path.resolve()), sum(f.stat().st_size for f in files),
            max((f.stat().st_mtime_ns for f in files), default=0))


def compute_model_hash(path: Path, files: list[Path]) -> str:
    """"sha256:<hex>" of a file's bytes (the plain sha256 model sites publish, whatever the file is
    called, so a renamed file keeps its hash), or over a folder's files' relative names and bytes.
    Reads every byte: slow for big models, which is why `nodeflow.library`'s index keeps each
    result across runs (keyed by `stat_key`)."""
    digest = hashlib.sha256()
    for file in files:
        if file != path:
            digest.update(file.relative_to(path).as_posix().encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()
