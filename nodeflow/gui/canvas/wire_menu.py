"""What a wire offers: its right-click menu (delete, insert a reroute, insert a node) and its
tooltip (the type it carries, who makes it, who takes it)."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMenu

from nodeflow.core.graph import Graph, Link
from nodeflow.gui import wire_rules
from nodeflow.gui.search_popup import SearchPopup


def describe_wire(graph: Graph, link: Link) -> str:
    """"LATENT: Sampler (node 5) latent → VAE Decode (node 6) latent"."""
    kind = graph.output_type(link.src, link.src_output) or "?"
    return (f"{kind}: {graph.title(link.src)} (node {link.src}) {link.src_output} → "
            f"{graph.title(link.dst)} (node {link.dst}) {link.dst_input}")


def fill_wire_menu(menu: QMenu, view, link: Link, pos: QPointF) -> None:
    """Delete the wire, put a reroute on it, or put a node that fits both ends into it."""
    doc = view.document
    menu.addSection(describe_wire(doc.graph, link))
    menu.addAction("Delete wire", lambda: doc.disconnect(link.dst, link.dst_input))
    menu.addAction("Insert reroute", lambda: view.add_reroute(link, pos))
    menu.addAction("Insert node…", lambda: open_insert_search(view, link, pos))


def fitting_between(graph: Graph, link: Link) -> list:
    """Node types with an input the wire's source fits and an output its target takes."""
    out_type = graph.output_type(link.src, link.src_output)
    dst_cls = graph.node_class(link.dst)
    in_sock = dst_cls.input(link.dst_input) if dst_cls else None
    if out_type is None or in_sock is None:
        return []
    return [cls for cls in graph.registry if wire_rules.fitting_socket(cls, out_type, want_input=True)
            and wire_rules.fitting_socket(cls, in_sock.type, want_input=False)]


def open_insert_search(view, link: Link, pos: QPointF) -> SearchPopup:
    popup = SearchPopup(view.document.registry, fitting_between(view.document.graph, link), view)
    popup.chosen.connect(lambda type_id: insert_node(view, link, type_id, pos))
    popup.popup_at(view.mapToGlobal(view.mapFromScene(pos)))
    return popup


def insert_node(view, link: Link, type_id: str, pos: QPointF) -> str | None:
    """Add a `type_id` node at `pos` and route the wire through it, as one undo step."""
    node_id = view.document.insert_into_link(link, type_id, (pos.x() - 100, pos.y() - 30))
    if node_id is not None:
        view.node_scene.select_nodes([node_id])
    return node_id
