"""A1111, Forge and Civitai pictures as workflows (Qt-free, torch-free).

Those tools write no graph, only a `parameters` text (prompt, negative prompt, a settings line;
see `infotext`) into a PNG text chunk or a JPEG/WebP EXIF UserComment (`reading`). `build` turns
it into the NodeFlow graph A1111 runs, from the built-in node types, finding the checkpoint and
LoRAs in the model library by name or by the hashes A1111 records (AutoV2 `Model hash`, AutoV3
`Lora hashes`), and reports each setting that has no equivalent.
"""

from __future__ import annotations

from pathlib import Path

from nodeflow.core import workflow
from nodeflow.core.graph import Graph
from nodeflow.core.registry import Registry
from nodeflow.interop.a1111.build import build
from nodeflow.interop.a1111.infotext import Infotext, parse
from nodeflow.interop.a1111.reading import parameters_in
from nodeflow.interop.comfyui.report import ImportReport
from nodeflow.library import ModelLibrary

__all__ = ["Infotext", "import_parameters", "open_picture", "parameters_in", "parse"]


def import_parameters(text: str, registry: Registry, library: ModelLibrary | None = None,
                      where: str = "parameters text") -> tuple[Graph, ImportReport]:
    """The graph a parameters text describes, and the report of what was converted or lost."""
    report = ImportReport(source=f"A1111/Forge parameters ({where})")
    data = build(parse(text), library, report)
    graph, loaded = workflow.from_data(data, registry)
    report.mapped = [(node["id"], "parameters", node["type"]) for node in data["nodes"]]
    report.problems += loaded.messages
    return graph, report


def open_picture(path: Path, registry: Registry, library: ModelLibrary | None = None
                 ) -> tuple[Graph, ImportReport] | None:
    """A picture's parameters as a graph, or None when it carries none."""
    text = parameters_in(path)
    if text is None:
        return None
    return import_parameters(text, registry, library, f"{Path(path).name}")
