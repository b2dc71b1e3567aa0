"""A subgraph definition as a file of its own, so one definition serves many workflows.

    {"format": "nodeflow-subgraph", "version": 1,
     "subgraph": {...one definition, as in a workflow's "subgraphs"...},
     "uses": [...the definitions nested inside it...]}

Using a file in a workflow adds its definitions; when the workflow already has a definition of
that id ("update all instances" after the file was edited), the file's version replaces it and
every instance is carried forward (`edit.revise`). The library is the `subgraphs/` folder of the
user data folder. Reading a file only reads data, as workflows do; writing is atomic.
"""

from __future__ import annotations

import json
from pathlib import Path

from nodeflow.core import jsontext, workflow
from nodeflow.core.atomic import write_atomic
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.graph import Graph
from nodeflow.core.paths import user_dir
from nodeflow.core.registry import Registry
from nodeflow.core.subgraphs.definition import Definition, definition_id_of
from nodeflow.core.subgraphs.edit import revise

FORMAT = "nodeflow-subgraph"
FORMAT_VERSION = 1
#: Largest subgraph file read (bytes): a definition is a small workflow.
MAX_FILE = 16 * 1024 * 1024


def library_dir() -> Path:
    return user_dir() / "subgraphs"


def library_files(folder: Path | None = None) -> list[Path]:
    folder = folder or library_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def definitions_used(graph: Graph, records: list) -> list[str]:
    """The definitions these node records are instances of, and those nested in them (each once,
    in the order first met): what must travel with them to another workflow."""
    found: list[str] = []
    todo = [list(records)]
    while todo:
        for record in todo.pop():
            used = definition_id_of(record.type)
            if used is not None and used not in found and used in graph.subgraphs:
                found.append(used)
                todo.append(list(graph.subgraphs[used].nodes.values()))
    return found


def _used(graph: Graph, definition_id: str) -> list[str]:
    """The definitions nested inside one."""
    return [d for d in definitions_used(graph, list(graph.subgraphs[definition_id].nodes.values()))
            if d != definition_id]


def dumps_subgraph(graph: Graph, definition_id: str) -> str:
    data = {"format": FORMAT, "version": FORMAT_VERSION,
            "subgraph": workflow.definition_data(graph.subgraphs[definition_id]),
            "uses": [workflow.definition_data(graph.subgraphs[d]) for d in _used(graph, definition_id)]}
    return jsontext.dumps(data)


def save_subgraph(graph: Graph, definition_id: str, path: Path) -> None:
    write_atomic(Path(path), dumps_subgraph(graph, definition_id))


def loads_subgraph(text: str, registry: Registry) -> tuple[Definition, list[Definition]]:
    """(the definition, the ones nested in it); WorkflowFormatError for anything else."""
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError) as exc:
        raise WorkflowFormatError(f"not valid JSON: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("subgraph"), dict):
        raise WorkflowFormatError(f"not a NodeFlow subgraph file (no \"format\": \"{FORMAT}\" and \"subgraph\")")
    if not isinstance(data.get("version"), int) or data["version"] > FORMAT_VERSION:
        raise WorkflowFormatError(f"subgraph file version {data.get('version')!r:.20} is not one this NodeFlow reads")
    uses = data.get("uses", [])
    carrier = {"format": workflow.FORMAT, "version": workflow.FORMAT_VERSION, "nodes": [], "links": [],
               "subgraphs": [data["subgraph"], *(uses if isinstance(uses, list) else [])]}
    graph, _ = workflow.from_data(carrier, registry)
    main = graph.subgraphs[data["subgraph"].get("id")]
    return main, [d for d in graph.subgraphs.values() if d is not main]


def load_subgraph(path: Path, registry: Registry) -> tuple[Definition, list[Definition]]:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE:
            raise WorkflowFormatError(f"{path} is larger than {MAX_FILE // 2**20} MiB; not a subgraph file")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise WorkflowFormatError(f"{path} is not a text file") from None
    return loads_subgraph(text, registry)


def use_subgraph(graph: Graph, path: Path) -> tuple[str, list[str]]:
    """Bring a subgraph file's definitions into `graph` (new ones added, known ones updated with
    every instance carried along); (the definition's id, lines for what instances lost)."""
    main, nested = load_subgraph(path, graph.registry)
    lost: list[str] = []
    for definition in [*nested, main]:
        old = graph.subgraphs.get(definition.id)
        if old is None:
            graph.subgraphs[definition.id] = definition
        elif workflow.definition_data(old) != workflow.definition_data(definition):
            lost += revise(graph, definition)
    graph.changed.emit()
    return main.id, lost
