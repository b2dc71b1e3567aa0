"""How big what flows out of each node is (batch, pixels, tokens), before anything runs.

Nodes declare how their output's size follows from their inputs' (`Node.output_size`); sources
declare their own (an Empty Latent's batch and size through `output_size`, a Load Image file's
pixels through `MemoryNeed.pixels`). One pass in run order carries the sizes through the graph, so
a graph whose later nodes multiply the work (a batch of 64 made from one picture, an upscale before
an encode, prompts concatenated with themselves) is sized before the first node runs. The memory
plan sizes each node's work by these sizes; validation refuses, naming node and field, an output
that cannot fit in the memory the device has (`flow_problems`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping

from nodeflow.core.byte_sizes import format_bytes
from nodeflow.core.errors import Problem
from nodeflow.core.flow_size import FlowSize
from nodeflow.core.graph import Graph, Link
from nodeflow.core.spec import Node
from nodeflow.core.types import CONDITIONING, IMAGE, LATENT, MASK, VIDEO

log = logging.getLogger(__name__)

#: Bytes each pixel of an output holds, by link type: float32 RGB pictures (a video's frames too),
#: float32 masks, and latents (16 channels at 1/8 of each side, float32: 1 byte per pixel they stand for).
BYTES_PER_PIXEL = {IMAGE: 12, VIDEO: 12, MASK: 4, LATENT: 1}
#: Bytes each prompt token of a CONDITIONING holds: one float32 vector as wide as T5-XXL's (4096).
BYTES_PER_TOKEN = 4096 * 4


def flow_sizes(graph: Graph, order: Iterable[str], own_pixels: Mapping[str, int],
               params_of: Callable[[str], dict], incoming: Mapping[str, list[Link]] | None = None
               ) -> dict[str, FlowSize]:
    """{node id: the size of what it puts out} for the nodes in `order` (topological) that have
    something flowing out: a size of their own or one coming in. `own_pixels` are the pictures
    sources declare (`MemoryNeed.pixels`); `params_of(node id)` gives the values the run will see."""
    sizes: dict[str, FlowSize] = {}
    for node_id in order:
        record = graph.nodes[node_id]
        cls = graph.registry.get(record.type)
        links = incoming.get(node_id, ()) if incoming is not None else graph.links_into(node_id)
        coming = {link.dst_input: sizes[link.src] for link in links if link.src in sizes}
        own = own_pixels.get(node_id, 0)
        if cls is None or record.mode == "muted" or not (coming or own or _declares(cls)):
            continue
        try:
            size = cls.output_size(params_of(node_id), coming)
        except Exception as exc:  # a plugin's declaration must not break the plan of the rest
            log.warning("node %s: output size of '%s' failed: %s: %s", node_id, record.type, type(exc).__name__, exc)
            size = Node.output_size.__func__(Node, {}, coming)  # the largest coming in, unchanged
        if own > size.total_pixels:
            size = FlowSize(1, own, size.tokens, size.field)
        if size.total_pixels or size.tokens:
            sizes[node_id] = size
    return sizes


def output_bytes(graph: Graph, node_id: str, size: FlowSize) -> int:
    """Bytes of what the node puts out, over its outputs' link types."""
    cls = graph.registry.get(graph.nodes[node_id].type)
    total = 0
    for output in cls.outputs if cls is not None else ():
        if output.type == CONDITIONING:
            total += size.tokens * BYTES_PER_TOKEN
        else:
            total += size.total_pixels * BYTES_PER_PIXEL.get(output.type, 0)
    return total


def described(size: FlowSize) -> str:
    """'64 pictures of 512x512' / '4,620 prompt tokens', as refusals print it."""
    if size.tokens and not size.pixels:
        return f"{size.tokens:,} prompt tokens"
    side = math.isqrt(size.pixels)
    shape = f"{side}x{side}" if side * side == size.pixels else f"{size.pixels:,} pixels"
    return f"{size.batch:,} picture{'s' if size.batch != 1 else ''} of {shape}"


def flow_problems(graph: Graph, sizes: Mapping[str, FlowSize], available: int, device: str,
                  incoming: Mapping[str, list[Link]]) -> list[Problem]:
    """Nodes whose output alone cannot fit in `available` bytes, naming the node and the input that
    made its output this big: the first ones on each path (those after them only inherit it)."""
    problems = []
    over: set[str] = set()
    for node_id, size in sizes.items():  # in run order
        need = output_bytes(graph, node_id, size)
        if need <= available:
            continue
        over.add(node_id)
        if not any(link.src in over for link in incoming.get(node_id, ())):
            problems.append(Problem(
                f"would put out about {format_bytes(need)} ({described(size)}), but only {format_bytes(available)} "
                f"of memory is available on {device}", node_id, size.field))
    return problems


def _declares(cls: type[Node]) -> bool:
    """Whether a node type says its own output size (a source such as Empty Latent, Text Encode)."""
    return getattr(cls.output_size, "__func__", None) is not Node.output_size.__func__


def validation_sizes(graph: Graph, candidates: Iterable[str], own_pixels: Mapping[str, int],
                     params_of: Callable[[str], dict], incoming: Mapping[str, list[Link]]) -> dict[str, FlowSize]:
    """`flow_sizes` for validation, which has the nodes in id order: only the nodes downstream of a
    source of sizes are visited (a graph of numbers and text costs one look per node type)."""
    declaring = {name for cls in graph.registry if _declares(cls) for name in (cls.type_id, *cls.legacy_ids)}
    seeds = [n for n, record in graph.nodes.items() if record.type in declaring] + list(own_pixels)
    if not seeds:
        return {}
    wanted = set(candidates)
    seeds = [n for n in seeds if n in wanted]
    outgoing: dict[str, list[str]] = {}
    for dst, links in incoming.items():
        if dst in wanted:
            for link in links:
                outgoing.setdefault(link.src, []).append(dst)
    reach, stack = set(seeds), list(seeds)
    while stack:
        for dst in outgoing.get(stack.pop(), ()):
            if dst not in reach:
                reach.add(dst)
                stack.append(dst)
    waiting = {n: sum(1 for link in incoming.get(n, ()) if link.src in reach) for n in reach}
    ready = sorted(n for n, count in waiting.items() if count == 0)
    order = []
    while ready:
        node_id = ready.pop()
        order.append(node_id)
        for dst in outgoing.get(node_id, ()):
            waiting[dst] -= 1
            if waiting[dst] == 0:
                ready.append(dst)
    return flow_sizes(graph, order, own_pixels, params_of, incoming)
