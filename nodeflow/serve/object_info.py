"""GET /object_info: every NodeFlow node as ComfyUI's clients expect to read it.

A node the class map (`interop.comfyui.classmap`) maps from a ComfyUI class is listed under that
class name (several classes may share one node: CLIPLoader and DualCLIPLoader), with ComfyUI's
input names; every other node under its own type id. Inputs come from the node's declaration
(types, defaults, bounds, choices); a model input lists the library's names of its kind, so
`object_info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]` is the checkpoint
list, and Load Image's picture lists the input folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nodeflow.core.registry import Registry
from nodeflow.core.spec import REQUIRED, Input, Node
from nodeflow.core.types import BOOLEAN, FLOAT, INT, STRING
from nodeflow.interop.comfyui.classmap import ENTRIES, Entry
from nodeflow.library import default_library

ModelNames = Callable[[str], list[str]]
#: Where a node comes from, as ComfyUI names a node pack: its web frontend badges each node "nodeflow"
#: (a module it does not know would be badged "?", as of unknown origin).
PYTHON_MODULE = "custom_nodes.nodeflow"


def model_lister() -> ModelNames:
    """Library names by kind, each kind scanned once per request."""
    library, seen = default_library(), {}

    def names(kind: str) -> list[str]:
        if kind not in seen:
            seen[kind] = [entry.name for entry in library.scan(kind)]
        return seen[kind]

    return names


def input_files(folder: Path) -> list[str]:
    """Pictures in the input folder, as Load Image names them (relative, '/'-separated)."""
    if not folder.is_dir():
        return []
    suffixes = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."))


def input_spec(inp: Input, models: ModelNames, images: list[str]) -> list[Any]:
    """One input as ComfyUI describes it: [TYPE, {options}] or [[choices], {options}]."""
    options: dict[str, Any] = {}
    if inp.default is not REQUIRED and inp.default is not None:
        options["default"] = inp.default
    if inp.help:
        options["tooltip"] = inp.help
    if inp.model:
        return [models(inp.model), options]
    if inp.file and inp.type == STRING:
        return [images, {**options, "image_upload": True}]
    if inp.choices is not None:
        return [list(inp.choices), options]
    if inp.type in (INT, FLOAT):
        for key in ("min", "max", "step"):
            if getattr(inp, key) is not None:
                options[key] = getattr(inp, key)
        if inp.seed:
            options["control_after_generate"] = True
    elif inp.type == STRING:
        options["multiline"] = inp.multiline
    elif inp.type == BOOLEAN:
        options.setdefault("default", False)
    return [inp.type, options]


def describe(name: str, cls: type[Node], inputs: list[tuple[str, Input]], outputs: list[tuple[str, str]],
             models: ModelNames, images: list[str]) -> dict[str, Any]:
    required = {comfy: input_spec(inp, models, images) for comfy, inp in inputs if not inp.optional}
    optional = {comfy: input_spec(inp, models, images) for comfy, inp in inputs if inp.optional}
    return {
        "input": {"required": required, "optional": optional, "hidden": {}},
        "input_order": {"required": list(required), "optional": list(optional)},
        "is_input_list": False,
        "output": [kind for _, kind in outputs],
        "output_is_list": [False] * len(outputs),
        "output_name": [out for out, _ in outputs],
        "name": name,
        "display_name": cls.title,
        "description": cls.description,
        "python_module": PYTHON_MODULE,
        "category": cls.category,
        "output_node": cls.is_output,
        "has_intermediate_output": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
        "search_aliases": [cls.type_id] if name != cls.type_id else [],
        "nodeflow_type": cls.type_id,
    }


def _mapped(entry: Entry, cls: type[Node]) -> tuple[list[tuple[str, Input]], list[tuple[str, str]]]:
    inputs = [(comfy, cls.input(target)) for comfy, target in entry.inputs.items()
              if cls.input(target) is not None and target not in entry.fixed]
    outputs = []
    for name in entry.outputs:
        out = cls.output(name) if name is not None else None
        outputs.append((out.name.upper(), out.type) if out is not None else ("*", "*"))
    return inputs, outputs


def object_info(registry: Registry, input_dir: Path, only: str | None = None) -> dict[str, Any]:
    """The whole listing, or the one class `only` (empty if unknown)."""
    models, images = model_lister(), input_files(input_dir)
    info: dict[str, Any] = {}
    mapped_nodes = set()
    for entry in ENTRIES:
        cls = registry.get(entry.node)
        if cls is None:
            continue
        mapped_nodes.add(cls.type_id)
        if only is None or only == entry.comfy:
            inputs, outputs = _mapped(entry, cls)
            info[entry.comfy] = describe(entry.comfy, cls, inputs, outputs, models, images)
    for cls in registry:
        if cls.type_id in mapped_nodes or (only is not None and only != cls.type_id):
            continue
        info[cls.type_id] = describe(cls.type_id, cls, [(i.name, i) for i in cls.inputs],
                                     [(o.name, o.type) for o in cls.outputs], models, images)
    return info
