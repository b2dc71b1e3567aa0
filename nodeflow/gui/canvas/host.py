"""What a canvas item may ask of the canvas around it: a narrow interface instead of the scene.

Node and group items are built with a `CanvasHost` (NodeScene is the real one). It gives them the
graph, the wire rules of a drag in progress, the grid, linked inputs, file look-up and the document's
edit methods, and nothing else, so items never reach through the scene into the window or document.
Painting and widget handling see a node through `PaintedNode`, so they need not import the item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsItem

from nodeflow.core.graph import Graph, NodeRecord
from nodeflow.core.spec import Node
from nodeflow.gui.canvas.layout import NodeLayout
from nodeflow.gui.canvas.run_state import RunState
from nodeflow.gui.wire_rules import SocketRef, WireRules


class DocumentEdits(Protocol):
    """The document's edit methods an item calls; each is one undo step (see gui/document.py)."""

    def set_param(self, node_id: str, name: str, value: Any, merge: object = None) -> str | None: ...

    def set_ui(self, node_id: str, text: str, **values: Any) -> None: ...

    def set_seed_mode(self, node_id: str, name: str, mode: str) -> None: ...

    def set_group(self, group_id: str, **values: Any) -> None: ...


class CanvasHost(Protocol):
    """The canvas as its items see it."""

    graph: Graph
    wire_rules: WireRules | None  # set while a wire is dragged: sockets it cannot reach dim
    snap: bool
    show_ids: bool  # node ids before titles (Sweep and `--set 5.seed=...` name nodes by id)
    grid: float
    cache_mode: QGraphicsItem.CacheMode
    #: Positions for nodes whose record has none (see gui/auto_layout.py).
    fallback_pos: dict[str, list[float]]

    @property
    def edits(self) -> DocumentEdits: ...

    def linked_inputs(self, node_id: str) -> set[str]: ...

    def resolve_file(self, name: str) -> Path | None: ...

    def update_links_of(self, node_id: str) -> None: ...

    def nodes_inside(self, rect: QRectF) -> list[QGraphicsItem]: ...

    def show_message(self, text: str) -> None: ...

    def show_compatible(self, sock: SocketRef | None) -> None: ...

    def request_rename(self, node_id: str) -> None: ...

    def request_rename_group(self, group_id: str) -> None: ...


class PaintedNode(Protocol):
    """A node item as the painter and the widget handler see it."""

    host: CanvasHost
    record: NodeRecord
    cls: type[Node] | None
    run: RunState
    layout: NodeLayout
    image: QImage | None

    @property
    def node_id(self) -> str: ...

    @property
    def title(self) -> str: ...

    def isSelected(self) -> bool: ...
