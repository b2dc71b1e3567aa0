"""Opening any workflow file the user may hand us: NodeFlow JSON/PNG, ComfyUI JSON/PNG/WebP, or a
picture A1111/Forge/Civitai made (its `parameters` text, PNG/JPEG/WebP).

This is the one place the CLI and the GUI load a workflow file through; the format is detected
from the content, never from the file name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nodeflow.core import workflow
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.graph import Graph
from nodeflow.core.reads import special_kind
from nodeflow.core.registry import Registry
from nodeflow.interop.comfyui import ImportReport, import_source
from nodeflow.interop.comfyui.source import read_source


@dataclass
class Opened:
    graph: Graph
    #: Lines for the user: migrations and drift for NodeFlow files, the import report for ComfyUI ones.
    messages: list[str] = field(default_factory=list)
    #: Set when the file was imported (ComfyUI, or an A1111 picture): saving it writes a new NodeFlow file.
    comfyui: ImportReport | None = None


def open_workflow(path: Path, registry: Registry, convention: str = "comfyui",
                  flatten_subgraphs: bool = False) -> Opened:
    """Load a workflow file of any supported kind; raises only WorkflowFormatError. ComfyUI sampler
    nodes get the given sampling convention (see `comfyui.convert.CONVENTIONS`); ComfyUI subgraphs
    stay subgraphs unless `flatten_subgraphs`."""
    try:
        source = read_source(Path(path))
    except WorkflowFormatError:
        if special_kind(Path(path)) is not None:
            raise  # a FIFO or device: opening it as a picture would block
        from nodeflow.interop.a1111 import open_picture
        from nodeflow.library import default_library

        picture = open_picture(Path(path), registry, default_library())  # no graph, maybe A1111's settings
        if picture is None:
            raise
        return Opened(picture[0], picture[1].lines(), picture[1])
    if source.kind == "nodeflow":
        graph, report = workflow.from_data(source.data, registry)
        return Opened(graph, report.messages)
    graph, report = import_source(source, registry, convention, flatten_subgraphs)
    return Opened(graph, report.lines(), report)
