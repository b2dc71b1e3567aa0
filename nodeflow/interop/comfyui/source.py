"""What a file is: a NodeFlow workflow, a ComfyUI UI workflow or API prompt, in JSON, PNG or WebP.

PNGs: NodeFlow's own chunk first; then ComfyUI's `workflow` chunk (UI: layout, muted nodes,
notes), then its `prompt` chunk (API). Pillow's `text` holds tEXt, zTXt and iTXt chunks alike.
Animated WebP (ComfyUI's SaveAnimatedWEBP): EXIF strings "workflow:<json>" and "prompt:<json>".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodeflow.core import workflow
from nodeflow.core.errors import WorkflowFormatError
from nodeflow.core.files import MAX_WORKFLOW_BYTES, PNG_WORKFLOW_KEY, embedded_texts
from nodeflow.core.gc_pause import without_cycle_collection
from nodeflow.core.reads import ReadRefused, read_bounded
from nodeflow.interop.comfyui.api import is_api_prompt, unwrap_post_body
from nodeflow.interop.comfyui.ui import is_ui_workflow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class Source:
    kind: str  # "nodeflow", "ui" or "api"
    data: Any
    where: str  # how it was found, for the report


def classify(data: Any, where: str) -> Source:
    """Which format parsed JSON data is in; WorkflowFormatError if none."""
    if isinstance(data, dict) and data.get("format") == workflow.FORMAT:
        return Source("nodeflow", data, where)
    prompt, embedded = unwrap_post_body(data)
    if embedded is not None and is_ui_workflow(embedded):
        return Source("ui", embedded, f"{where}, the UI workflow in a POST /prompt body")
    if is_ui_workflow(data):
        return Source("ui", data, where)
    if is_api_prompt(prompt):
        body = ", a POST /prompt body" if prompt is not data else ""
        return Source("api", prompt, f"{where}{body}")
    raise WorkflowFormatError(f"{where} is neither a NodeFlow workflow nor a ComfyUI workflow or API prompt")


def parse_json(text: str, where: str) -> Any:
    """The JSON in `text`, parsed with the cycle collector paused (`core.gc_pause`): a big workflow
    is millions of small objects and no cycles."""
    try:
        with without_cycle_collection():
            return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise WorkflowFormatError(f"{where}: not valid JSON: {exc}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_source(path: Path) -> Source:
    """Read a workflow file of any supported kind; raise WorkflowFormatError with one clear line."""
    path = Path(path)
    try:
        data = read_bounded(path, MAX_WORKFLOW_BYTES, "workflow file")
    except ReadRefused as exc:
        raise WorkflowFormatError(str(exc)) from None
    if data.startswith(PNG_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return _image_source(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WorkflowFormatError(f"{path} is not a text file, a PNG or a WebP") from None
    return classify(parse_json(text, str(path)), str(path))


def _image_source(path: Path) -> Source:
    texts = embedded_texts(path)
    for key, kind in ((PNG_WORKFLOW_KEY, "nodeflow"), ("workflow", "ui"), ("prompt", "api")):
        if key in texts:
            where = f"{path} ('{key}' chunk)"
            source = classify(parse_json(texts[key], where), where)
            if source.kind != kind:
                raise WorkflowFormatError(f"{where} does not hold what its name says")
            return source
    raise WorkflowFormatError(f"{path} carries no workflow (no NodeFlow, ComfyUI 'workflow' or 'prompt' data)")
