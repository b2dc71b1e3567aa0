"""From a parsed ComfyUI graph to NodeFlow workflow data, through the class map.

Mapped nodes get NodeFlow params by name (the entry's `inputs`, `fixed` and converters); links
are addressed by NodeFlow socket names. Unknown classes, and mapped ones whose values cannot be
carried faithfully, become placeholders: their type is the ComfyUI class, sockets keep ComfyUI
input names and output indexes (`out0`, `out1`...), and the node keeps everything the file said
under `comfyui`, so export gives it back unchanged. The result is loaded by `core.workflow`.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import workflow
from nodeflow.core.registry import Registry
from nodeflow.core.spec import Node
from nodeflow.interop.comfyui.classmap import Entry, entry_for_class
from nodeflow.interop.comfyui.convert import PIXELS_EXPECTED, UNCOMPARED_FAMILY_CLASSES, Notes, Unmappable
from nodeflow.interop.comfyui.parsed import CNode, Parsed
from nodeflow.interop.comfyui.report import ImportReport

NOTE_TYPE = "basic.note"


def placeholder_output(index: int) -> str:
    return f"out{index}"


def build(parsed: Parsed, registry: Registry, report: ImportReport, convention: str = "comfyui"
          ) -> dict[str, Any]:
    report.dropped += parsed.dropped
    report.problems += parsed.problems
    report.notes += parsed.older + parsed.leftovers
    nodes: list[dict[str, Any]] = []
    mapped: dict[str, tuple[Entry, type[Node]]] = {}
    for node in parsed.nodes.values():
        item, target = _node(node, registry, report, convention)
        nodes.append(item)
        if target is not None:
            mapped[node.id] = target
    links = []
    for node in parsed.nodes.values():
        links += _links(node, parsed, mapped, report)
    for note_id, note in parsed.notes:
        item: dict[str, Any] = {"id": note_id, "type": NOTE_TYPE, "params": {"text": note.text}}
        item |= _layout(note.pos, note.size, note.title, note.color)
        nodes.append(item)
    groups = [{"id": f"g{i + 1}", "title": g.title, "rect": g.rect, **({"color": g.color} if g.color else {})}
              for i, g in enumerate(parsed.groups)]
    data: dict[str, Any] = {"format": workflow.FORMAT, "version": workflow.FORMAT_VERSION, "nodes": nodes,
                            "links": links}
    if groups:
        data["groups"] = groups
    data["metadata"] = {"imported_from": report.source}
    manifest = {section: dict(sorted(table.items()))
                for section, table in (("models", parsed.models), ("model_urls", parsed.model_urls)) if table}
    if manifest:
        data["manifest"] = manifest
    return data


def take_back_pixel_promises(report: ImportReport) -> None:
    """A sampler alone would give ComfyUI's pixels, but the graph holds a node not yet shown to:
    its note says so instead of promising them."""
    if report.unproven:
        why = "; ".join(report.unproven)
        report.notes = [line.replace(PIXELS_EXPECTED, f"ComfyUI's pixels are not promised ({why}); the sampler "
                                     "alone would give them") for line in report.notes]


def _layout(pos, size, title, color) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if pos:
        out["pos"] = pos
    if size:
        out["size"] = size
    if title:
        out["title"] = title
    if color:
        out["color"] = color
    return out


def _node(node: CNode, registry: Registry, report: ImportReport, convention: str
          ) -> tuple[dict[str, Any], tuple[Entry, type[Node]] | None]:
    item: dict[str, Any] = {"id": node.id}
    entry = entry_for_class(node.class_type)
    cls = registry.get(entry.node) if entry else None
    reason = "no NodeFlow node for this ComfyUI class" if entry is None else f"NodeFlow lacks '{entry.node}'"
    params = None
    if entry is not None and cls is not None:
        try:
            params = _params(node, entry, cls, report, convention)
        except Unmappable as exc:
            reason = str(exc)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            reason = f"its values are malformed ({type(exc).__name__}: {exc})"
    if params is None:
        report.placeholders.append((node.id, node.class_type, reason))
        item |= {"type": node.class_type, "params": {}}
    else:
        report.mapped.append((node.id, node.class_type, cls.type_id))
        item |= {"type": cls.type_id, "params": params}
    if node.mode != "normal":
        item["mode"] = node.mode
    item |= _layout(node.pos, node.size, node.title, node.color)
    if params is not None:
        controls = {entry.inputs.get(k, k): v for k, v in node.seed_control.items()}
        if controls:
            item["seed_control"] = controls
        converted = [entry.inputs[w] for w in node.widget_inputs if w in entry.inputs]
        if converted:
            item["widget_inputs"] = converted
    item["comfyui"] = _kept(node, params)
    return item, ((entry, cls) if params is not None else None)


def _kept(node: CNode, params: dict[str, Any] | None) -> dict[str, Any]:
    """What export needs to give the node back as it was: class, literal values, the raw widgets
    of an unmapped node, and the params as imported (to tell later edits apart)."""
    kept: dict[str, Any] = {"class_type": node.class_type, "inputs": node.values}
    if params is not None:
        kept["imported_params"] = params
    else:
        raw_widgets = node.original.get("widgets_values")
        if raw_widgets is not None:
            kept["widgets_values"] = raw_widgets
        if node.output_names:
            kept["outputs"] = node.output_names
    if node.unnamed is not None:
        kept["widgets_values"] = node.unnamed
    return kept


def _params(node: CNode, entry: Entry, cls: type[Node], report: ImportReport, convention: str
            ) -> dict[str, Any]:
    notes = Notes({i.name: i.choices for i in cls.inputs}, convention=convention)
    params: dict[str, Any] = {}
    for name, value in node.values.items():
        target = entry.inputs.get(name)
        if target is None:
            report.problems.append(f"node {node.id} ({node.class_type}): value {name}={value!r} has no NodeFlow "
                                   "input; not carried over")
            continue
        params[target] = value
    params |= dict(entry.fixed)
    if entry.values is not None:
        params = entry.values(params, notes)
    report.notes += [f"node {node.id} ({node.class_type}): {m}" for m in notes.messages]
    if notes.unproven:
        report.unproven.append(f"node {node.id}: {notes.unproven}")
    family = (f"{node.class_type} brings a model family not yet compared with ComfyUI's own pixels (that "
              "comparison ran on Stable Diffusion 1.5 checkpoints)")
    if node.class_type in UNCOMPARED_FAMILY_CLASSES and family not in report.unproven:
        report.unproven.append(family)
    for name, value in list(params.items()):
        inp = cls.input(name)
        if inp is None or not inp.is_parameter:
            report.problems.append(f"node {node.id} ({node.class_type}): NodeFlow's {cls.title} has no parameter "
                                   f"'{name}'; value {value!r} not carried over")
            del params[name]
            continue
        try:
            params[name] = inp.check_value(value)
        except ValueError as exc:
            report.problems.append(f"node {node.id} ({node.class_type}): {name}={value!r}: {exc}")
    return params


def _links(node: CNode, parsed: Parsed, mapped: dict[str, tuple[Entry, type[Node]]],
           report: ImportReport) -> list[dict[str, Any]]:
    links = []
    target = mapped.get(node.id)
    for name, (src, index) in node.links.items():
        dst_input = name
        if target is not None:
            dst_input = target[0].inputs.get(name)
            if dst_input is None or target[1].input(dst_input) is None:
                report.problems.append(f"node {node.id} ({node.class_type}): input '{name}' has no NodeFlow "
                                       f"equivalent; its link from node {src} is not carried over")
                continue
        if src not in parsed.nodes:
            report.problems.append(f"node {node.id} ({node.class_type}): input '{name}' links to node {src}, "
                                   "which was not imported; link dropped")
            continue
        source = mapped.get(src)
        if source is None:
            src_output = placeholder_output(index)
        else:
            outputs = source[0].outputs
            src_output = outputs[index] if 0 <= index < len(outputs) else None
            if src_output is None:
                report.problems.append(f"node {node.id} ({node.class_type}): input '{name}' takes output {index} of "
                                       f"node {src} ({parsed.nodes[src].class_type}), which NodeFlow's node does "
                                       "not have; link dropped")
                continue
        links.append({"from": [src, src_output], "to": [node.id, dst_input]})
    return links
