"""ComfyUI's official templates (the pinned comfyui-workflow-templates-json package) as NodeFlow graphs,
for the tests that run them on tiny weights: one imported fully mapped, and tiny files put in place of
the models it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow.core import default_registry
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source


def template_path(name: str) -> Path:
    """The template file called `name` (skips the test where the package is not installed)."""
    templates = pytest.importorskip("comfyui_workflow_templates_json")
    return Path(templates.__file__).parent / "templates" / f"{name}.json"


def import_template(name: str):
    """`name` as a graph with its subgraphs flattened, asserted fully mapped, and each node's ComfyUI
    class ({node id: class_type})."""
    graph, report = import_source(read_source(template_path(name)), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    return graph, {m[0]: m[1] for m in report.mapped}


def place_files(graph, comfy_class: dict[str, str], files: dict[str, tuple[str, Path]]) -> None:
    """Every node of a ComfyUI class named in `files` ({class: (field, path)}) reads that path."""
    for node_id in graph.nodes:
        kind = comfy_class.get(node_id)
        if kind in files:
            field, path = files[kind]
            graph.set_param(node_id, field, str(path))
