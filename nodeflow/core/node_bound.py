"""The one bound on how many nodes a workflow may become once everything in it is unfolded.

Subgraph definitions (and ComfyUI's subgraphs and legacy group nodes) multiply: a definition
used twice inside a definition used twice... doubles at every level, so a 5 KB file can describe
2^24 nodes. Every place that unfolds such a file counts first, with plain integers, and refuses a
count over this bound in one line, before a single node is made.
"""

from __future__ import annotations

#: Most nodes a workflow may hold after subgraphs are expanded. Real workflows have tens to a few
#: hundred; the largest official ComfyUI template unfolds to under 200.
MAX_EXPANDED_NODES = 50_000


def too_many_nodes(count: int, what: str) -> str | None:
    """The refusal for `count` nodes (`what` names whose nodes), or None when within the bound."""
    if count <= MAX_EXPANDED_NODES:
        return None
    shown = f"{count:,}" if count < 10**12 else f"about 2^{count.bit_length() - 1}"
    return (f"{what} would expand to {shown} nodes, more than the {MAX_EXPANDED_NODES:,} a workflow "
            "may hold; refused before expanding")
