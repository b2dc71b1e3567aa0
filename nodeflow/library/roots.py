"""Where the library looks for models, in priority order.

1. folders given on the command line (`--models-dir`, `--comfyui`), see `configure`;
2. the environment: `NODEFLOW_MODEL_PATHS` (model roots) and `NODEFLOW_COMFYUI` (ComfyUI installs),
   each a list separated like PATH;
3. the settings file `model-folders.json` in the user data folder: `{"roots": [...], "comfyui": [...]}`;
4. the user's own folder, `<user data>/models/<kind>` (where missing models should be put);
5. each ComfyUI install: its `models/` folder and the folders its `extra_model_paths.yaml` names.

The same sources give the folders (or single files) a workflow may read besides its own folder
(`core.reads`): `--allow-read`, `NODEFLOW_ALLOW_READ` and the settings file's `"allow_read"`.

A *root* holds one sub-folder per kind (`checkpoints/`, `loras/`, ...; ComfyUI's `text_encoders/`
and `diffusion_models/` count as `clip/` and `unet/`), so a ComfyUI `models/` folder is a root.
ComfyUI itself is never needed: its files are only read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodeflow.core.paths import user_dir, user_models_dir
from nodeflow.library.kinds import FOLDER_ALIASES, KINDS, kind_of_folder

ENV_ROOTS = "NODEFLOW_MODEL_PATHS"
ENV_COMFYUI = "NODEFLOW_COMFYUI"
ENV_ALLOW_READ = "NODEFLOW_ALLOW_READ"
SETTINGS_FILE = "model-folders.json"


@dataclass(frozen=True)
class Folder:
    """One folder that holds models of one kind, and why the library looks there."""

    kind: str
    path: Path
    source: str


@dataclass
class FolderSet:
    """Every model folder by kind (priority order), plus problems met while reading configs."""

    folders: list[Folder] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: ComfyUI installs' input/ folders, where their workflows' Load Image file names live.
    inputs: list[Path] = field(default_factory=list)
    #: Folders (or files) a workflow may read from besides the input folders (`core.reads`).
    reads: list[Path] = field(default_factory=list)

    def for_kind(self, kind: str) -> list[Folder]:
        return [f for f in self.folders if f.kind == kind]

    def add(self, kind: str, path: Path, source: str) -> None:
        folder = Folder(kind, Path(path), source)
        if not any(f.kind == kind and f.path == folder.path for f in self.folders):
            self.folders.append(folder)

    def add_root(self, root: Path, source: str) -> None:
        """The kind folders under a root: its own kind names first, then ComfyUI's aliases."""
        for kind in KINDS:
            self.add(kind, root / kind, source)
        for alias, kind in FOLDER_ALIASES.items():
            if (root / alias).is_dir():
                self.add(kind, root / alias, source)


def settings_path() -> Path:
    return user_dir() / SETTINGS_FILE


SETTINGS_KEYS = ("roots", "comfyui", "allow_read")
#: The settings file is a few folder names; anything bigger is not one.
SETTINGS_LIMIT = 1024 * 1024


def read_settings() -> tuple[dict[str, list[str]], list[str]]:
    """The settings file's roots, ComfyUI installs and readable folders (empty when there is no file)."""
    from nodeflow.core.reads import ReadRefused, read_bounded

    empty: dict[str, list[str]] = {key: [] for key in SETTINGS_KEYS}
    path = settings_path()
    if not path.is_file():
        return empty, []
    try:
        data = json.loads(read_bounded(path, SETTINGS_LIMIT, "settings file").decode("utf-8"))
    except (ReadRefused, ValueError) as exc:
        return empty, [f"{path}: cannot read the model folders settings: {exc}"]
    out: dict[str, list[str]] = {}
    problems = []
    for key in SETTINGS_KEYS:
        value = data.get(key, []) if isinstance(data, dict) else None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{path}: '{key}' must be a list of folder paths")
            value = []
        out[key] = value
    return out, problems


def _env_list(name: str) -> list[str]:
    return [p for p in os.environ.get(name, "").split(os.pathsep) if p.strip()]


def collect(cli_roots: list[Path] = (), cli_comfyui: list[Path] = (), cli_reads: list[Path] = ()) -> FolderSet:
    """All model folders, in the priority order described in the module docstring."""
    found = FolderSet()
    settings, found.problems = read_settings()
    found.reads = [Path(p).expanduser() for p in [*cli_reads, *_env_list(ENV_ALLOW_READ), *settings["allow_read"]]]
    for root in cli_roots:
        found.add_root(Path(root).expanduser(), "command line")
    for root in _env_list(ENV_ROOTS):
        found.add_root(Path(root).expanduser(), f"${ENV_ROOTS}")
    for root in settings["roots"]:
        found.add_root(Path(root).expanduser(), "settings")
    found.add_root(user_models_dir(), "user folder")
    installs = [(p, "command line") for p in cli_comfyui]
    installs += [(Path(p), f"${ENV_COMFYUI}") for p in _env_list(ENV_COMFYUI)]
    installs += [(Path(p), "settings") for p in settings["comfyui"]]
    for install, source in installs:
        add_comfyui(found, Path(install).expanduser(), source)
    return found


def add_comfyui(found: FolderSet, install: Path, source: str) -> None:
    """A ComfyUI install (or its models/ folder, or an extra_model_paths.yaml) as model folders."""
    if install.is_file():
        read_extra_paths(found, install)
        return
    models = install / "models" if (install / "models").is_dir() else install
    if not models.is_dir():
        found.problems.append(f"ComfyUI folder {install} ({source}) does not exist")
        return
    found.add_root(models, f"ComfyUI {models.parent}")
    if (models.parent / "input").is_dir() and models.parent / "input" not in found.inputs:
        found.inputs.append(models.parent / "input")
    for yaml_file in (models.parent / "extra_model_paths.yaml", models / "extra_model_paths.yaml"):
        if yaml_file.is_file():
            read_extra_paths(found, yaml_file)


def read_extra_paths(found: FolderSet, yaml_file: Path) -> None:
    """Read a ComfyUI `extra_model_paths.yaml`: groups of `kind: path(s)` under a `base_path`.

    Paths are expanded (~, $VARS) and taken relative to `base_path`, itself relative to the YAML
    file's folder, as ComfyUI does; several paths may share one key, one per line. Keys that are
    not model kinds (configs, custom_nodes...) are ignored, and so is `is_default` (it picks
    ComfyUI's download folder; the search order here is the file's order).
    """
    import yaml

    try:
        config = yaml.safe_load(yaml_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        found.problems.append(f"{yaml_file}: cannot read: {str(exc).splitlines()[0]}")
        return
    if config is None:
        return
    if not isinstance(config, dict):
        found.problems.append(f"{yaml_file}: expected groups of 'kind: folder' entries")
        return
    for group, conf in config.items():
        if conf is None:
            continue
        if not isinstance(conf, dict):
            found.problems.append(f"{yaml_file}: group '{group}' is not a mapping")
            continue
        _read_group(found, yaml_file, str(group), conf)


def _read_group(found: FolderSet, yaml_file: Path, group: str, conf: dict[str, Any]) -> None:
    base = conf.get("base_path")
    base_path = _expand(str(base), yaml_file.parent) if base else None
    source = f"{yaml_file} ({group})"
    for key, value in conf.items():
        kind = kind_of_folder(str(key))
        if kind is None or not isinstance(value, str):
            continue
        for line in value.splitlines():
            if line.strip():
                found.add(kind, _expand(line.strip(), base_path or yaml_file.parent), source)


def _expand(text: str, relative_to: Path) -> Path:
    path = Path(os.path.expandvars(os.path.expanduser(text)))
    return Path(os.path.normpath(path if path.is_absolute() else relative_to / path))
