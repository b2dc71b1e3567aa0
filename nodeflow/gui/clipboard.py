"""Copy and paste of nodes as workflow JSON: what goes on the clipboard, and fresh ids on paste.

Pure functions of a graph and text; the document turns their result into one undo step.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from nodeflow.core import workflow
from nodeflow.core.graph import Graph, Link, NodeRecord
from nodeflow.core.subgraphs.files import definitions_used

#: Where a paste lands when no point is given (Duplicate): just below and right of the originals.
PASTE_OFFSET = (30.0, 30.0)
#: The metadata key under which a copy lists the links that came into it from other nodes.
INCOMING = "incoming_links"


def copy_text(graph: Graph, node_ids: list[str]) -> str:
    """The given nodes (and the links among them) as workflow JSON, with the subgraph definitions
    their instances use, so they paste into another workflow whole."""
    part = Graph(graph.registry)
    records, links = graph.snapshot(node_ids)
    for definition_id in definitions_used(graph, records):
        part.subgraphs[definition_id] = graph.subgraphs[definition_id]
    part.fill({record.id: record for record in records}, links)
    chosen = set(node_ids)
    incoming = [[link.src, link.src_output, link.dst, link.dst_input] for link in graph.links.values()
                if link.dst in chosen and link.src not in chosen]
    if incoming:  # what Paste with Inputs (Ctrl+Shift+V) wires again, as ComfyUI does
        part.metadata[INCOMING] = incoming
    return workflow.dumps(part)


def incoming_links(text: str, pasted: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """The copied nodes' links from outside the copy, with `pasted` (copied id -> new id) applied
    to their targets: (src, output, new dst, input). Empty for text without them."""
    import json

    try:
        found = json.loads(text).get("metadata", {}).get(INCOMING, [])
    except (ValueError, AttributeError):
        return []
    return [(str(s), str(o), pasted[str(d)], str(i)) for s, o, d, i in found if str(d) in pasted]


def paste_records(graph: Graph, text: str, at: tuple[float, float] | None
                  ) -> tuple[list[NodeRecord], list[Link], dict[str, str]]:
    """Nodes and links from workflow JSON, with ids new to `graph`; their top-left goes to `at`.
    Also returns which copied id became which new id.

    Subgraph definitions the text brings and `graph` lacks are added to it. Raises
    WorkflowFormatError for text that is not a workflow.
    """
    part, _ = workflow.loads(text, graph.registry)
    for definition_id, definition in part.subgraphs.items():
        graph.subgraphs.setdefault(definition_id, definition)  # this workflow's own version stays
    records, links = part.snapshot()
    points = [r.ui["pos"] for r in records if "pos" in r.ui]
    offset = PASTE_OFFSET
    if at is not None and points:
        offset = (at[0] - min(p[0] for p in points), at[1] - min(p[1] for p in points))
    new_records, new_links = remap_for_paste(graph, records, links, offset)
    return new_records, new_links, {old.id: new.id for old, new in zip(records, new_records)}


def remap_for_paste(graph: Graph, records: list[NodeRecord], links: list[Link],
                    offset: tuple[float, float]) -> tuple[list[NodeRecord], list[Link]]:
    """Fresh ids (the graph's `new_ids`) and shifted positions for pasted nodes and their links."""
    mapping = dict(zip((r.id for r in records), graph.new_ids(len(records))))
    new_records = []
    for record in records:
        rec = copy.deepcopy(record)
        rec.id = mapping[record.id]
        if "pos" in rec.ui:
            rec.ui["pos"] = [rec.ui["pos"][0] + offset[0], rec.ui["pos"][1] + offset[1]]
        new_records.append(rec)
    new_links = [replace(link, src=mapping[link.src], dst=mapping[link.dst])
                 for link in links if link.src in mapping and link.dst in mapping]
    return new_records, new_links
