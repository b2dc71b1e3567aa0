"""Where NodeFlow finds things: the project root, user folders, and files named in workflows.

A workflow written on one machine names models by relative path; they are resolved against the
workflow's folder, the current folder, the user's models folder and the NodeFlow install, in that
order, so a shared workflow that uses the built-in model runs anywhere.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

from platformdirs import user_data_path

#: The checkout or install root: the folder that holds `nodeflow/`, `nodes/` and `resources/`.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
RESOURCES = PROJECT_ROOT / "resources"
#: The bundled example workflows and the pictures they name (`workflows/inputs/`).
EXAMPLES = PROJECT_ROOT / "workflows"


def user_dir() -> Path:
    """The user's NodeFlow data folder (settings, autosave, plugins, models).

    `NODEFLOW_HOME` overrides it, which tests use to stay out of the real one.
    """
    override = os.environ.get("NODEFLOW_HOME")
    return Path(override) if override else _platform_user_dir()


@functools.cache
def _platform_user_dir() -> Path:
    """The platform's data folder for NodeFlow, asked once (a run asks for user folders per node)."""
    return user_data_path("nodeflow", appauthor=False)


def user_nodes_dir() -> Path:
    return user_dir() / "nodes"


def user_input_dir() -> Path:
    """Pictures and other files workflows may read wherever they are saved (`core.reads`)."""
    return user_dir() / "input"


def user_models_dir() -> Path:
    return user_dir() / "models"


def default_search_dirs(workflow_dir: Path | None = None) -> tuple[Path, ...]:
    dirs: list[Path] = []
    if workflow_dir is not None:
        dirs.append(workflow_dir)
    dirs += [Path.cwd(), user_models_dir(), PROJECT_ROOT]
    return tuple(dirs)


def resolve_path(name: str, search_dirs: Iterable[Path] = ()) -> Path:
    """Return the first existing match for `name`, or its path in the first folder if none exists.

    Returning a best guess (instead of raising) lets the caller phrase the error for its own field.
    """
    path = Path(name).expanduser()
    if path.is_absolute():
        return path
    dirs = list(search_dirs) or list(default_search_dirs())
    for folder in dirs:
        candidate = folder / path
        if exists(candidate):
            return candidate
    return dirs[0] / path


def exists(path: Path) -> bool:
    """Whether `path` exists; False (not an exception) for a name no file system takes: too long
    (ENAMETOOLONG), or holding a NUL, as a hostile workflow's names may be."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False
