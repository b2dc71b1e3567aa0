"""Send an output image (and a mask painted on it) back into the graph, as a picture loader's input.

"Load Image" is whichever node type declares a picture file input and a mask editor, so no node
type id is named here. The selected loader is reused; otherwise a new one is added at the centre
of the view. Everything is one undo step.
"""

from __future__ import annotations

from pathlib import Path

from nodeflow.core.registry import Registry
from nodeflow.gui.canvas.placement import land_visible
from nodeflow.gui.canvas.scene import NodeScene
from nodeflow.gui.canvas.view import NodeView
from nodeflow.gui.document import Document
from nodeflow.gui.mask_editor.source import picture_inputs


def send_to_load_image(registry: Registry, document: Document, scene: NodeScene, view: NodeView,
                       path: Path, mask: str = "", reuse_selected: bool = True) -> str | None:
    """The id of the loader node that now shows `path` (with `mask`), or None without a loader type.
    `reuse_selected=False` always adds a new loader (a picture dropped on the canvas)."""
    graph = document.graph
    loaders = [cls for cls in registry if picture_inputs(cls) is not None]
    if not loaders:
        return None
    ids = [i for i in scene.selected_node_ids() if graph.node_class(i) in loaders] if reuse_selected else []
    document.undo.beginMacro("Send image to Load Image" if reuse_selected else f"Load {path.name}")
    if ids:
        node_id = ids[0]
    else:
        centre = view.mapToScene(view.viewport().rect().center())
        node_id = document.add_node(loaders[0].type_id, (centre.x() - 100, centre.y() - 40))
    file_input, mask_input = picture_inputs(graph.node_class(node_id))
    document.set_param(node_id, file_input, str(path))
    document.set_param(node_id, mask_input, mask)
    if not ids:
        land_visible(view, node_id)  # on screen and clear of the other nodes, at its size with the picture
    document.undo.endMacro()
    scene.select_nodes([node_id])
    return node_id
