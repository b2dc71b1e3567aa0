"""One image a run showed, with what the viewer tells about it: where it was saved, its seed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
from PySide6.QtGui import QImage

from nodeflow.core.files import COMPARE_INFO, SAVED_PATH_INFO
from nodeflow.core.graph import Graph
from nodeflow.core.seeds import seed_inputs, seed_value
from nodeflow.gui.images import to_qimage


@dataclass
class OutputImage:
    image: QImage
    node_id: str
    path: Path | None = None  # None: shown but not saved (Preview Image)
    seeds: tuple[int, ...] = ()
    compare: str = ""  # "a" or "b": one side of a pair to show with the divider (Image Compare)

    def describe(self) -> str:
        """One line for the viewer: file (or 'preview'), size, seed, node."""
        where = self.path.name if self.path is not None else "preview (not saved)"
        parts = [where, f"{self.image.width()}×{self.image.height()}"]
        if self.seeds:
            parts.append("seed " + ", ".join(str(s) for s in self.seeds))
        parts.append(f"node {self.node_id}")
        return " · ".join(parts)


def saved_path(pil_image: Any) -> Path | None:
    """The file a saver wrote this PIL image to, if it said so."""
    info = getattr(pil_image, "info", None) or {}
    value = info.get(SAVED_PATH_INFO)
    return Path(value) if value else None


def upstream_seeds(graph: Graph | None, node_id: str) -> tuple[int, ...]:
    """The values of every seed parameter (inputs declared `seed=True`) the node's image came from.

    Linked seeds are not values the graph holds, so only set ones are listed.
    """
    if graph is None or node_id not in graph.nodes:
        return ()
    upstream = nx.ancestors(graph.to_networkx(), node_id) | {node_id}
    seeds = [seed_value(graph, n, name) for n, name in seed_inputs(graph, upstream)]
    return tuple(seeds)


def output_images(images: list[Any], node_id: str, graph: Graph | None) -> list[OutputImage]:
    """A run's shown images (PIL) as viewer entries, with the file each went to and its seeds."""
    seeds = upstream_seeds(graph, node_id)
    return [OutputImage(q, node_id, saved_path(i), seeds, str((getattr(i, "info", None) or {}).get(COMPARE_INFO, "")))
            for i in images if (q := to_qimage(i)) is not None]
