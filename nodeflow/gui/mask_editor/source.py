"""Which picture a mask is painted over: the node's own picture file, read as Load Image reads it.

A node type that declares a picture file input and a mask input (`widget="mask"`) is a picture
loader; the mask editor opens over the file named by its file input, with EXIF orientation
applied like the node does, so the mask lines up with the pixels the node outputs.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage, QImageReader

from nodeflow.core.graph import Graph
from nodeflow.core.paths import default_search_dirs, resolve_path
from nodeflow.core.spec import Node


def picture_inputs(cls: type[Node] | None) -> tuple[str, str] | None:
    """(file input, mask input) of a node type that loads a picture with a painted mask."""
    if cls is None:
        return None
    mask = next((i.name for i in cls.inputs if i.widget == "mask"), None)
    picture = next((i.name for i in cls.inputs if i.file == "file"), None)
    return (picture, mask) if mask and picture else None


def node_picture(graph: Graph, node_id: str, workflow_dir: Path | None) -> QImage | None:
    """The picture a loader node names, or None when it names none or it cannot be read."""
    names = picture_inputs(graph.node_class(node_id))
    if names is None:
        return None
    value = str(graph.nodes[node_id].params.get(names[0]) or "").strip()
    if not value:
        return None
    path = resolve_path(value, default_search_dirs(workflow_dir))
    if not path.is_file():  # a FIFO or device would block the reader (and the editor with it)
        return None
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read()
    return None if image.isNull() else image
