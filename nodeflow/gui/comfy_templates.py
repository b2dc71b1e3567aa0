"""The official ComfyUI workflow templates, when their package (`comfyui-workflow-templates`'
JSON bundle) is installed: title, description and file of each, from the package's own index.
The Start panel lists them; opening one goes through the ComfyUI importer like any ComfyUI file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Template:
    path: Path
    title: str
    description: str
    category: str


@lru_cache(maxsize=1)
def comfyui_templates() -> tuple[Template, ...]:
    """Every template the installed package indexes and ships; empty without the package."""
    try:
        import comfyui_workflow_templates_json as package
    except ImportError:
        return ()
    folder = Path(package.__file__).parent / "templates"
    try:
        index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    found = []
    for section in index if isinstance(index, list) else []:
        for entry in section.get("templates", []) if isinstance(section, dict) else []:
            path = folder / f"{entry.get('name', '')}.json"
            if isinstance(entry, dict) and path.is_file():
                found.append(Template(path, str(entry.get("title") or entry["name"]),
                                      str(entry.get("description", "")), str(section.get("title", ""))))
    return tuple(found)
