"""ComfyUI interop (Qt-free, torch-free): import API prompts, UI workflows, PNGs and WebPs; export API prompts.

- `import_data(data, registry, where)` / `import_source(source, registry)`: a ComfyUI graph as a
  NodeFlow `Graph` plus an `ImportReport` (mapped / placeholder / dropped, and why).
- `export_api(graph)`: the API prompt for a NodeFlow graph (`export.py`).
- The class map (`classmap.ENTRIES`) is the one table that says how each ComfyUI class maps.

Subgraphs (`definitions.subgraphs`) become NodeFlow subgraph definitions and instances
(`ui_subgraphs.py`); with `flatten_subgraphs=True` they are flattened instead (inner ids
`<instance>:<inner>`, as ComfyUI's API prompts name them, framed by a group titled with the
subgraph's name), as legacy group nodes always are. Export expands instances to the same ids.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import workflow
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.graph import Graph
from nodeflow.core.registry import Registry
from nodeflow.core.subgraphs.expand import count_problems
from nodeflow.interop.comfyui.api import read_api
from nodeflow.interop.comfyui.build import build, take_back_pixel_promises
from nodeflow.interop.comfyui.export import export_api
from nodeflow.interop.comfyui.report import ImportReport
from nodeflow.interop.comfyui.source import Source, classify
from nodeflow.interop.comfyui.ui import read_ui
from nodeflow.interop.comfyui.ui_subgraphs import definitions_of, import_with_subgraphs

__all__ = ["ImportReport", "Source", "export_api", "import_data", "import_source"]

_NAMES = {"ui": "ComfyUI UI workflow", "api": "ComfyUI API prompt"}


def import_source(source: Source, registry: Registry, convention: str = "comfyui",
                  flatten_subgraphs: bool = False) -> tuple[Graph, ImportReport]:
    """Map a ComfyUI source (see `source.read_source`) onto NodeFlow nodes, sampler nodes in the
    given sampling convention (`convert.CONVENTIONS`); subgraphs stay subgraphs unless flattened."""
    report = ImportReport(source=f"{_NAMES[source.kind]} from {source.where}")
    try:
        if source.kind == "ui" and not flatten_subgraphs and definitions_of(source.data):
            data = import_with_subgraphs(source.data, registry, report, convention)
        else:
            parsed = read_ui(source.data) if source.kind == "ui" else read_api(source.data)
            data = build(parsed, registry, report, convention)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, RecursionError) as exc:
        raise WorkflowFormatError(f"{source.where}: malformed ComfyUI {source.kind} file "
                                  f"({type(exc).__name__}: {exc})") from None
    take_back_pixel_promises(report)
    graph, load_report = workflow.from_data(data, registry)
    report.notes += load_report.migrated + load_report.drift
    report.problems += [str(p) for p in count_problems(graph)] if graph.subgraphs else []
    return graph, report


def import_data(data: Any, registry: Registry, where: str = "data", convention: str = "comfyui",
                flatten_subgraphs: bool = False) -> tuple[Graph, ImportReport]:
    """Import parsed JSON (UI workflow, API prompt or POST /prompt body)."""
    source = classify(data, where)
    if source.kind == "nodeflow":
        raise WorkflowFormatError(f"{where} is a NodeFlow workflow, not a ComfyUI one")
    return import_source(source, registry, convention, flatten_subgraphs)
