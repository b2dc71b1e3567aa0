"""The model library (Qt-free, torch-free): where models are, what they are called, their hashes.

Public API, for loaders, the executor, the GUI and the ComfyUI importer:

- `KINDS`: checkpoints, loras, vae, embeddings, upscale_models, controlnet, clip, unet, clip_vision,
  style_models, model_patches.
- `default_library()`: a `ModelLibrary` over every configured folder (see `roots`) and the shared
  SQLite `HashIndex` in the user data folder. Cheap to build; build one per task.
- `ModelLibrary.scan(kind)` lists `ModelEntry(kind, name, path, source)`;
  `ModelLibrary.resolve(kind, name, sha256=None, size=None, search_dirs=())` gives the path or
  raises `ModelNotFound` (its message names the model, hash, size, kind and the folder to use);
  `ModelLibrary.name_of(path)` turns a path back into (kind, name);
  `ModelLibrary.index.sha256(path)` is a model's "sha256:<hex>", read once and then indexed.
- `configure(roots, comfyui, reads)`: extra folders from the command line (`--models-dir`,
  `--comfyui`, `--allow-read`); `allow_read(path)` adds one folder or file the user named or picked.
- `ModelLibrary.read_rule(workflow_dir)`: the `core.reads.ReadRule` every file a workflow names
  is held to (validation, the run and the server ask it).
- `manifest_key(kind, name)`: how a workflow's manifest records a model's hash ("models") and
  size ("model_sizes"), so another machine finds a renamed file by its hash.

Getting models (`nodeflow models fetch`, the editor's Missing models dialog):

- `wanted.missing_models(graph, library)`: what a workflow names that no folder has, with the hash,
  size and download URL its manifest records (`sources`: the `model_urls` section).
- `fetch.fetch_model(Wanted, index, download.Options)` / `fetch.fetch_all(...)`: download
  (`download`: resume, redirects, progress; `addresses`: no private address a shared file named),
  check the bytes (`sniff`: safetensors/GGUF, never an HTML page), verify size and sha256, then
  place the file in its kind folder under a checked name (`placement`).
- `detect.identify(path)`: a file's family and kind from its header (`header`), one table of rules;
  `hashes`: AutoV1/AutoV2/AutoV3, so a model named by any of them is found (`find_by_hash`).

A node input declares `model="<kind>"` (see `core.spec.Input`); the engine resolves such inputs
through the library before the node runs and validation reports a missing model, so a loader's
`run` receives an existing path.
"""

from __future__ import annotations

from pathlib import Path

from nodeflow.library.index import HashIndex
from nodeflow.library.kinds import BUILTIN_NAME, BUILTIN_NAMES, KINDS
from nodeflow.library.library import ModelEntry, ModelLibrary, ModelNotFound, manifest_key
from nodeflow.library.roots import collect

__all__ = ["BUILTIN_NAME", "BUILTIN_NAMES", "KINDS", "HashIndex", "ModelEntry", "ModelLibrary", "ModelNotFound",
           "allow_read", "allowed_reads", "configure", "default_library", "manifest_key"]

_cli_roots: list[Path] = []
_cli_comfyui: list[Path] = []
_cli_reads: list[Path] = []


def configure(roots: list[Path] = (), comfyui: list[Path] = (), reads: list[Path] = ()) -> None:
    """Folders given on the command line; they come before every other folder."""
    _cli_roots[:] = [Path(r) for r in roots]
    _cli_comfyui[:] = [Path(c) for c in comfyui]
    _cli_reads[:] = [Path(r).absolute() for r in reads]


def allow_read(path: Path) -> None:
    """Let workflows read `path` (a folder: its tree) in this process: a file the user named on the
    command line or picked in the editor is theirs, wherever it is."""
    path = Path(path).expanduser().absolute()
    if path not in _cli_reads:
        _cli_reads.append(path)


def allowed_reads() -> tuple[Path, ...]:
    """The folders and files allowed to be read in this process (command line, picks), for
    workers in other processes ($NODEFLOW_ALLOW_READ)."""
    return tuple(_cli_reads)


def default_library() -> ModelLibrary:
    """The library over the folders configured right now (command line, environment, settings)."""
    return ModelLibrary(collect(_cli_roots, _cli_comfyui, _cli_reads), HashIndex())
