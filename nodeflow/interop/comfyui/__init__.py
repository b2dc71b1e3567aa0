"""ComfyUI interop (Qt-free, torch-free): import API prompts, UI workflows, PNGs and WebPs; export API prompts.

- `import_data(data, registry, where)` / `import_source(source, registry)`: a ComfyUI graph as a
  NodeFlow `Graph` plus an `ImportReport` (mapped / placeholder / dropped, and why).
- `export_api(graph)`: the API prompt for a NodeFlow graph (`export.py`).
- The class map (`classmap.ENTRIES`) is the one table that says how each ComfyUI class maps.

Subgraphs and legacy group nodes are flattened (inner ids `<instance>:<inner>`, as ComfyUI's
API prompts name them) and framed by a group titled with the subgraph's name.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import workflow
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.graph import Graph
from nodeflow.core.registry import Registry
from nodeflow.interop.comfyui.api import read_api
from nodeflow.interop.comfyui.build import build
from nodeflow.interop.comfyui.export import export_api
from nodeflow.interop.comfyui.report import ImportReport
from nodeflow.interop.comfyui.source import Source, classify
from nodeflow.interop.comfyui.ui import read_ui

__all__ = ["ImportReport", "Source", "export_api", "import_data", "import_source"]

_NAMES = {"ui": "ComfyUI UI workflow", "api": "ComfyUI API prompt"}


def import_source(source: Source, registry: Registry, convention: str = "comfyui") -> tuple[Graph, ImportReport]:
    """Map a ComfyUI source (see `source.read_source`) onto NodeFlow nodes, sampler nodes in the
    given sampling convention (`convert.CONVENTIONS`)."""
    report = ImportReport(source=f"{_NAMES[source.kind]} from {source.where}")
    try:
        parsed = read_ui(source.data) if source.kind == "ui" else read_api(source.data)
        data = build(parsed, registry, report, convention)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, RecursionError) as exc:
        raise WorkflowFormatError(f"{source.where}: malformed ComfyUI {source.kind} file "
                                  f"({type(exc).__name__}: {exc})") from None
    graph, load_report = workflow.from_data(data, registry)
    report.notes += load_report.migrated + load_report.drift
    return graph, report


def import_data(data: Any, registry: Registry, where: str = "data", convention: str = "comfyui"
                ) -> tuple[Graph, ImportReport]:
    """Import parsed JSON (UI workflow, API prompt or POST /prompt body)."""
    source = classify(data, where)
    if source.kind == "nodeflow":
        raise WorkflowFormatError(f"{where} is a NodeFlow workflow, not a ComfyUI one")
    return import_source(source, registry, convention)
