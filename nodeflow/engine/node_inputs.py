"""What a node's `run` receives: its parameter values, its model names resolved to files and the
values its links bring, and what a bypassed node passes on. One place, so the run, the cache key
and a switch's choice agree."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nodeflow.core.errors import NodeError
from nodeflow.core.graph import Graph, Link, NodeRecord
from nodeflow.core.spec import REQUIRED, Node
from nodeflow.core.types import ANY, widen
from nodeflow.library import ModelLibrary, ModelNotFound, manifest_key


def parameter_values(graph: Graph, record: NodeRecord, cls: type[Node], chosen: tuple[str, ...]) -> dict[str, Any]:
    """The node's unlinked inputs' values, checked (lazy ones only once `chosen`: `run` gets None
    for the others, which stay out of the cache key)."""
    linked = {link.dst_input for link in graph.links_into(record.id)}
    params: dict[str, Any] = {}
    for inp in cls.inputs:
        if inp.name in linked or (inp.lazy and inp.name not in chosen and record.mode == "normal"):
            continue
        if not inp.is_parameter:
            params[inp.name] = None  # optional, unlinked
            continue
        value = record.params.get(inp.name, inp.default)
        params[inp.name] = None if value is REQUIRED else inp.check_value(value)
    return params


def model_paths(library: ModelLibrary, cls: type[Node], params: Mapping[str, Any], manifest: Mapping[str, Any],
                workflow_dir: Path | None, names: dict[Path, str]) -> dict[str, Any]:
    """`params` with each model input's name resolved through the library to a path (by name, then
    by the hash the workflow recorded) that the read rule for `workflow_dir` allows; `names`
    learns each path's manifest key."""
    search_dirs, reads = library.search_dirs(workflow_dir), library.read_rule(workflow_dir)
    resolved = dict(params)
    for inp in cls.inputs:
        if inp.model and params.get(inp.name):
            try:
                path = library.resolve_recorded(inp.model, params[inp.name], manifest, search_dirs)
            except ModelNotFound as exc:
                raise NodeError(str(exc), inp.name) from None
            if (refusal := reads.refusal(path, params[inp.name])) is not None:
                raise NodeError(refusal, inp.name)
            names[path.resolve()] = manifest_key(inp.model, params[inp.name])
            resolved[inp.name] = str(path)
    return resolved


def linked_values(graph: Graph, cls: type[Node], links: list[Link],
                  results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The values `links` bring from their sources' `results` (an INT into a FLOAT input as a float). A
    bypassed source that passes nothing leaves the input unlinked (None), as ComfyUI's frontend drops the
    link: an optional socket runs without it, any other input is refused."""
    values = {}
    for link in links:
        value = results[link.src][link.src_output]
        inp = cls.input(link.dst_input)
        bypassed = value is None and graph.nodes[link.src].mode == "bypass"
        if bypassed and inp is not None and not (inp.optional and not inp.is_parameter):
            raise NodeError(f"its input comes from node {link.src}, which is bypassed and has no "
                            f"{inp.type} input to pass on", link.dst_input)
        src_out = graph.registry.get(graph.nodes[link.src].type).output(link.src_output)
        if inp is not None and src_out is not None:
            value = widen(value, src_out.type, inp.type)
        values[link.dst_input] = value
    return values


def bypass_outputs(cls: type[Node], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A bypassed node's outputs: for each, the first linked input of the same type, or None (nothing)
    when it has none (a bypassed Load Image: what it fed runs as if unlinked, `linked_values`)."""
    outputs = {}
    for out in cls.outputs:
        source = next((i for i in cls.inputs if i.type in (out.type, ANY) and inputs.get(i.name) is not None), None)
        outputs[out.name] = None if source is None else inputs[source.name]
    return outputs
