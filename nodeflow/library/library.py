"""The model library: list the models in every configured folder, resolve a name (or a hash) to a file.

Names are paths relative to their kind's folder with forward slashes ("sd15/v1-5.safetensors");
the built-in models are "tiny-shapes" and "tiny-shapes-flow". A diffusers folder is one model and is not looked into.
Resolution order: built-in name, absolute path, each kind folder (see `roots`), the workflow's
folder and the other `core.paths` search folders (old workflows name paths), then the sha256 the
workflow recorded, so a renamed or moved file is still found. What can't be found raises
`ModelNotFound`, whose message says what to fetch and where to put it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nodeflow.core.byte_sizes import format_bytes
from nodeflow.core.errors import NodeFlowError, shown
from nodeflow.core.manifest import model_files
from nodeflow.core.paths import (
    EXAMPLES,
    RESOURCES,
    default_search_dirs,
    exists,
    resolve_path,
    user_input_dir,
    user_models_dir,
)
from nodeflow.core.reads import ReadRule
from nodeflow.library.hashes import AUTOV1_DIGITS, AUTOV3_DIGITS, autov1, normal_hash
from nodeflow.library.index import HashIndex
from nodeflow.library.kinds import BUILTIN_NAMES, KINDS, check_kind, is_model_file, is_model_folder
from nodeflow.library.roots import ENV_ALLOW_READ, FolderSet, settings_path

#: The shipped models by name (a name whose folder is missing is neither listed nor resolved).
BUILTIN_PATHS = {name: RESOURCES / "models" / name for name in BUILTIN_NAMES}


@dataclass(frozen=True)
class ModelEntry:
    """One model the library can see."""

    kind: str
    name: str
    path: Path
    source: str  # which configured folder it came from ("built-in", "user folder", "ComfyUI ...")

    @property
    def size(self) -> int:
        return sum(f.stat().st_size for f in model_files(self.path))


class ModelNotFound(NodeFlowError):
    """A model that is in no folder under its name nor under its recorded hash."""

    def __init__(self, kind: str, name: str, sha256: str | None = None, size: int | None = None):
        self.kind, self.name, self.sha256, self.size = kind, name, sha256, size
        facts = [f"sha256 {sha256.removeprefix('sha256:')}" if sha256 else "no hash recorded"]
        if size:
            facts.append(format_bytes(size))
        target = put_it_here(kind, name)
        super().__init__(f"{kind} model '{shown(name, 120)}' not found ({', '.join(facts)}); "
                         f"put it in {shown(str(target.parent), 200)} as {shown(target.name, 120)} (`nodeflow models` "
                         "lists every folder searched)")


def put_it_here(kind: str, name: str) -> Path:
    """Where a missing model of `kind` should go: the user's own folder for the kind."""
    relative = Path(name) if not Path(name).is_absolute() else Path(Path(name).name)
    return user_models_dir() / kind / relative


def manifest_key(kind: str, name: str) -> str:
    """How a workflow's manifest names a library model ("checkpoints/sd15/x.safetensors")."""
    return f"{kind}/{name}"


class ModelLibrary:
    """Models by kind across the configured folders, with their hashes from the index."""

    def __init__(self, folders: FolderSet, index: HashIndex | None = None):
        self.folders = folders
        self.index = index if index is not None else HashIndex()
        # Per workflow folder, as a run asks them per node: its folders are fixed when it is made
        # (`default_library` makes one per run).
        self._rules: dict[Path | None, ReadRule] = {}
        self._dirs: dict[Path | None, tuple[Path, ...]] = {}

    def search_dirs(self, workflow_dir: Path | None = None) -> tuple[Path, ...]:
        """Where a file a workflow names (a Load Image picture) is looked for: `core.paths`' folders,
        the user's input folder, then each ComfyUI install's input/ folder, where ComfyUI's own
        workflows expect them. What is found is then held to `read_rule`."""
        if workflow_dir not in self._dirs:
            self._dirs[workflow_dir] = default_search_dirs(workflow_dir) + (user_input_dir(), *self.folders.inputs)
        return self._dirs[workflow_dir]

    def read_rule(self, workflow_dir: Path | None = None) -> ReadRule:
        """What a workflow in `workflow_dir` may read (`core.reads`): that folder's tree, the user's
        input folder, every model folder, each ComfyUI install's input/, the folders and files
        allowed on the command line, in $NODEFLOW_ALLOW_READ or the settings, and NodeFlow's own
        resources and bundled examples. A workflow with no folder (unsaved, sent to the server)
        gets all but the first."""
        if workflow_dir in self._rules:
            return self._rules[workflow_dir]
        roots = [workflow_dir] if workflow_dir is not None else []
        roots += [user_input_dir(), *self.folders.inputs, *self.folders.reads, RESOURCES, EXAMPLES]
        roots += [folder.path for folder in self.folders.folders]
        hint = (f"run with --allow-read DIR, set ${ENV_ALLOW_READ}, or add it to \"allow_read\" "
                f"in {settings_path()}")
        self._rules[workflow_dir] = ReadRule.of(roots, hint)
        return self._rules[workflow_dir]

    # -- listing -------------------------------------------------------------------------------

    def scan(self, kind: str | None = None) -> list[ModelEntry]:
        """Every model of `kind` (default: all kinds); a name found in two folders is listed once,
        from the folder that wins resolution."""
        kinds = (check_kind(kind),) if kind else KINDS
        entries: list[ModelEntry] = []
        for k in kinds:
            seen: set[str] = set()
            if k == "checkpoints":
                for name, path in BUILTIN_PATHS.items():
                    if path.is_dir():
                        entries.append(ModelEntry(k, name, path, "built-in"))
                        seen.add(name)
            for folder in self.folders.for_kind(k):
                for name, path in _walk(folder.path):
                    if name not in seen:
                        seen.add(name)
                        entries.append(ModelEntry(k, name, path, folder.source))
        return entries

    # -- resolving -----------------------------------------------------------------------------

    def find(self, kind: str, name: str, search_dirs: Iterable[Path] = ()) -> Path | None:
        """The model called `name` (library name, absolute path or workflow-relative path), or None."""
        check_kind(kind)
        name = name.strip()
        if not name:
            return None
        if kind == "checkpoints" and name in BUILTIN_PATHS and BUILTIN_PATHS[name].is_dir():
            return BUILTIN_PATHS[name]
        path = Path(name).expanduser()
        if path.is_absolute():
            return path if exists(path) else None
        for folder in self.folders.for_kind(kind):
            candidate = folder.path / path
            if exists(candidate):
                return candidate
        dirs = list(search_dirs)
        if dirs:
            candidate = resolve_path(name, dirs)
            if exists(candidate):
                return candidate
        return None

    def find_by_hash(self, kind: str, digest: str, like: str = "", compute: bool = True) -> Path | None:
        """The model of `kind` with this hash: a sha256, or the short hashes other tools print
        (AutoV2, AutoV3, AutoV1: see `hashes`). Files named like `like` are hashed first, so a
        moved file is found without hashing the whole library (the index remembers the rest).
        With `compute` False only hashes the index already holds are compared (no model is read:
        what the editor does while a workflow opens)."""
        wanted = normal_hash(digest)
        if wanted is None:
            return None
        entries = self.scan(kind)
        base = Path(like).name
        entries.sort(key=lambda e: (Path(e.name).name != base, e.name))
        for entry in entries:
            if self.has_hash(entry.path, wanted, compute):
                return entry.path
        return None

    def has_hash(self, path: Path, wanted: str, compute: bool = True) -> bool:
        """Whether the model at `path` has the hash `wanted` (lowercase hex, see `hashes.normal_hash`):
        its sha256 or a prefix of it (AutoV2), a prefix of its AutoV3, or its AutoV1 (64 KiB read)."""
        sha256 = (self.index.sha256(path) if compute else self.index.known(path) or "").removeprefix("sha256:")
        if sha256 and (sha256 == wanted or (len(wanted) < 64 and sha256.startswith(wanted))):
            return True
        if len(wanted) > AUTOV3_DIGITS or not path.is_file():
            return False
        autov3 = self.index.autov3(path, compute)
        return bool(autov3 and autov3.startswith(wanted)) or (len(wanted) == AUTOV1_DIGITS and autov1(path) == wanted)

    def resolve(self, kind: str, name: str, sha256: str | None = None, size: int | None = None,
                search_dirs: Iterable[Path] = (), compute: bool = True) -> Path:
        """The file or folder for a model input: by name, then by hash; raise ModelNotFound."""
        found = self.find(kind, name, search_dirs)
        if found is None and sha256:
            found = self.find_by_hash(kind, sha256, like=name, compute=compute)
        if found is None:
            raise ModelNotFound(kind, name, sha256, size)
        return found

    def resolve_recorded(self, kind: str, name: str, manifest: dict, search_dirs: Iterable[Path] = (),
                         compute: bool = True) -> Path:
        """`resolve` with the hash and size a workflow's manifest recorded for this model."""
        key = manifest_key(kind, name)
        hashes, sizes = manifest.get("models"), manifest.get("model_sizes")
        sha256 = hashes.get(key) if isinstance(hashes, dict) else None
        size = sizes.get(key) if isinstance(sizes, dict) else None
        return self.resolve(kind, name, sha256 if isinstance(sha256, str) else None,
                            size if isinstance(size, int) else None, search_dirs, compute)

    def name_of(self, path: Path) -> tuple[str, str] | None:
        """(kind, library name) of a model path inside a library folder, or None."""
        path = Path(path).resolve()
        for name, builtin in BUILTIN_PATHS.items():
            if path == builtin.resolve():
                return "checkpoints", name
        for folder in self.folders.folders:
            try:
                relative = path.relative_to(folder.path.resolve())
            except (ValueError, OSError):
                continue
            return folder.kind, relative.as_posix()
        return None


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """(name, path) of the models under a kind folder; diffusers folders are one model each."""
    if not root.is_dir():
        return
    for current, dirs, files in os.walk(root, followlinks=True):
        here = Path(current)
        if here != root and is_model_folder(here):
            dirs.clear()
            yield here.relative_to(root).as_posix(), here
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for file in sorted(files):
            path = here / file
            if not file.startswith(".") and is_model_file(path):
                yield path.relative_to(root).as_posix(), path
