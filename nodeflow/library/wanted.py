"""The models a workflow names that the library cannot find, with what the workflow knows of each.

A node input declared with `model="<kind>"` names a library model. The workflow's manifest may
record for it (under `manifest_key(kind, name)`) the sha256 (`models`), the size (`model_sizes`)
and where it can be downloaded (`model_urls`: NodeFlow records the URL a model was fetched from;
the ComfyUI importer copies the `url` of a UI workflow's `models` hints). The editor's Missing
models dialog and `nodeflow models fetch WORKFLOW` both start from this list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nodeflow.core.graph import Graph
from nodeflow.library.fetch import Wanted
from nodeflow.library.library import ModelLibrary, ModelNotFound, manifest_key
from nodeflow.library.sources import URLS


@dataclass(frozen=True)
class Missing:
    """A model the workflow names and the library lacks; `uses` lists the (node id, input) that name it."""

    wanted: Wanted
    uses: tuple[tuple[str, str], ...]

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(node_id for node_id, _ in self.uses)


def recorded(manifest: dict, kind: str, name: str) -> tuple[str | None, int | None, str | None]:
    """(sha256, size, url) the manifest records for a model, each None when absent or malformed."""
    key = manifest_key(kind, name)
    values = []
    for section, want in (("models", str), ("model_sizes", int), (URLS, str)):
        table = manifest.get(section)
        value = table.get(key) if isinstance(table, dict) else None
        values.append(value if isinstance(value, want) and not isinstance(value, bool) else None)
    if values[2] is None:  # a download hint named by file name only ("x.safetensors" for "sd/x.safetensors")
        values[2] = _url_by_file_name(manifest.get(URLS), kind, name)
    return values[0], values[1], values[2]


def _url_by_file_name(urls: object, kind: str, name: str) -> str | None:
    if not isinstance(urls, dict):
        return None
    base = PurePosixPath(name.replace("\\", "/")).name
    found = {url for key, url in urls.items() if isinstance(key, str) and isinstance(url, str)
             and key.startswith(f"{kind}/") and PurePosixPath(key.replace("\\", "/")).name == base}
    return found.pop() if len(found) == 1 else None


def missing_models(graph: Graph, library: ModelLibrary, search_dirs: Iterable[Path] = (),
                   compute: bool = True) -> list[Missing]:
    """Every model input of an active node whose model is in no library folder, by name or hash.
    A model named by several nodes is listed once. With `compute` False no model file is hashed
    (only hashes already indexed are compared), so a big library does not stall the editor."""
    dirs = tuple(search_dirs)
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for node_id, record in graph.nodes.items():
        cls = graph.registry.get(record.type)
        if cls is None or record.mode == "muted":
            continue
        for inp in cls.inputs:
            name = record.params.get(inp.name, inp.default)
            if not inp.model or not isinstance(name, str) or not name.strip():
                continue
            try:
                library.resolve_recorded(inp.model, name, graph.manifest, dirs, compute)
            except ModelNotFound:
                found.setdefault((inp.model, name.strip()), []).append((node_id, inp.name))
    missing = []
    for (kind, name), uses in found.items():
        sha256, size, url = recorded(graph.manifest, kind, name)
        place_as = Path(name).name if Path(name).is_absolute() else name  # an old workflow's full path
        missing.append(Missing(Wanted(kind, url, place_as, sha256, size), tuple(uses)))
    return missing

