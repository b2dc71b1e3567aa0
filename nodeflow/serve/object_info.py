"""GET /object_info: every NodeFlow node as ComfyUI's clients expect to read it.

A node the class map (`interop.comfyui.classmap`) maps from a ComfyUI class is listed under that
class name (several classes may share one node: CLIPLoader and DualCLIPLoader), with ComfyUI's
input names; every other node under its own type id. Inputs come from the node's declaration
(types, defaults, bounds, choices); a model input lists the library's names of its kind, so
`object_info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]` is the checkpoint
list, and a file input lists the input folder's files of its kind (`Input.media`: pictures for Load
Image, videos for Load Video, sound and video files for Load Audio) with the upload button ComfyUI's
frontend shows for that kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core.files import AUDIO_SUFFIXES, VIDEO_SUFFIXES
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


#: The file suffixes each kind of file input lists (`Input.media`; None: pictures). Load Audio reads a
#: video's sound too, as ComfyUI's does.
MEDIA_SUFFIXES = {None: (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"),
                  "video": VIDEO_SUFFIXES, "audio": AUDIO_SUFFIXES + VIDEO_SUFFIXES}
#: The option ComfyUI's frontend reads to put an upload button on a file input of each kind.
UPLOAD_OPTIONS = {None: "image_upload", "video": "video_upload", "audio": "audio_upload"}


def input_files(folder: Path) -> dict[str | None, list[str]]:
    """The input folder's files by the kind of file input that lists them (relative, '/'-separated)."""
    found: dict[str | None, list[str]] = {kind: [] for kind in MEDIA_SUFFIXES}
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            for kind, suffixes in MEDIA_SUFFIXES.items():
                if path.suffix.lower() in suffixes:
                    found[kind].append(path.relative_to(folder).as_posix())
    return found


def input_spec(inp: Input, models: ModelNames, files: Mapping[str | None, list[str]]) -> list[Any]:
    """One input as ComfyUI describes it: [TYPE, {options}] or [[choices], {options}]."""
    options: dict[str, Any] = {}
    if inp.default is not REQUIRED and inp.default is not None:
        options["default"] = inp.default
    if inp.help:
        options["tooltip"] = inp.help
    if inp.model:
        return [models(inp.model), options]
    if inp.file and inp.type == STRING:
        return [files.get(inp.media, []), {**options, UPLOAD_OPTIONS.get(inp.media, "image_upload"): True}]
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
             models: ModelNames, files: Mapping[str | None, list[str]]) -> dict[str, Any]:
    required = {comfy: input_spec(inp, models, files) for comfy, inp in inputs if not inp.optional}
    optional = {comfy: input_spec(inp, models, files) for comfy, inp in inputs if inp.optional}
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
    models, files = model_lister(), input_files(input_dir)
    info: dict[str, Any] = {}
    mapped_nodes = set()
    for entry in ENTRIES:
        cls = registry.get(entry.node)
        if cls is None:
            continue
        mapped_nodes.add(cls.type_id)
        if only is None or only == entry.comfy:
            inputs, outputs = _mapped(entry, cls)
            info[entry.comfy] = describe(entry.comfy, cls, inputs, outputs, models, files)
    for cls in registry:
        if cls.type_id in mapped_nodes or (only is not None and only != cls.type_id):
            continue
        info[cls.type_id] = describe(cls.type_id, cls, [(i.name, i) for i in cls.inputs],
                                     [(o.name, o.type) for o in cls.outputs], models, files)
    return info
