"""The one memory estimate: what each node will need, what the device has, and what cannot fit.

Work that cannot fit is refused at validation, before a model loads or a step runs, with the node,
the estimate and the memory available; a run that dies of memory after ten minutes of sampling
loses the user's time. Node types say what they need from their own parameters
(`Node.memory_needs`, e.g. the decoded size of an Empty Latent or a Load Image file's pixels);
this module collects those needs and holds the rule that compares them with the device. The
memory plan (`nodeflow plan`, budgets, eviction) builds on the same estimates, so there is one
number per node, not two that disagree.

Imports neither torch nor Qt unless asked about a CUDA device, which only a run that already
picked CUDA does: `nodeflow validate` stays instant.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nodeflow.core.byte_sizes import format_bytes
from nodeflow.core.errors import Problem
from nodeflow.core.graph import Graph
from nodeflow.core.reads import ReadRefused, resolve_for_header
from nodeflow.core.spec import REQUIRED, MemoryNeed
from nodeflow.engine.node_types import node_classes, overrides

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeEstimate:
    """One need of one node: bytes, the input it comes from, and why (in words)."""

    node_id: str
    bytes: int
    field: str | None
    reason: str
    budget: int | None = None
    pixels: int = 0


def available_bytes(device: str = "cpu") -> int:
    """Memory free for new allocations on `device` now: free VRAM on CUDA, available RAM otherwise.

    MPS shares the machine's RAM, so it counts as RAM. CUDA is asked through torch only when torch
    is already imported (a run that picked CUDA has imported it); otherwise RAM is the answer.
    """
    if device.startswith("cuda") and "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.cuda.is_available():
            index = torch.device(device).index
            free, _total = torch.cuda.mem_get_info(index if index is not None else torch.cuda.current_device())
            return int(free)
    import psutil

    return int(psutil.virtual_memory().available)


def node_params(graph: Graph, node_id: str, native: int = 0) -> dict[str, object]:
    """The node's unlinked parameter values as the run will see them (invalid ones left out).

    With `native` (the picture side of the model the node's output is used with), the node's
    `native_size_inputs` left at 0 read as that side, as they will when it runs.
    """
    record = graph.nodes[node_id]
    cls = graph.registry.get(record.type)
    if cls is None:
        return {}
    values: dict[str, object] = {}
    for inp in cls.inputs:
        if not inp.is_parameter or graph.link_into(node_id, inp.name) is not None:
            continue
        value = record.params.get(inp.name, inp.default)
        if value is REQUIRED:
            continue
        try:
            values[inp.name] = inp.check_value(value)
        except ValueError:
            continue  # reported by validation as a bad value
        if native and inp.name in cls.native_size_inputs and values[inp.name] == 0:
            values[inp.name] = native
    return values


def node_estimates(graph: Graph, node_ids: Iterable[str], search_dirs: tuple[Path, ...],
                   natives: dict[str, int] | None = None) -> list[NodeEstimate]:
    """Every memory need the given nodes declare, in the order given. Muted nodes need nothing.

    `natives` ({node id: picture side}, from the memory plan) says what a size of 0 means where
    the model is known; without it nodes assume the largest native size.
    """
    natives = natives or {}
    found: list[NodeEstimate] = []

    def resolve(name: str) -> Path:
        return resolve_for_header(name, search_dirs)

    # most types declare no needs: their nodes are passed over after one look-up each
    declaring = {t: cls for t, cls in node_classes(graph).items() if cls is not None and overrides(cls, "memory_needs")}
    nodes = graph.nodes
    for node_id in node_ids if declaring else ():
        record = nodes[node_id]
        cls = declaring.get(record.type)
        if cls is None or record.mode == "muted":
            continue  # unknown, a type that declares no needs, or muted
        try:
            params = node_params(graph, node_id, natives.get(node_id, 0))
            needs: list[MemoryNeed] = list(cls.memory_needs(params, resolve))
        except ReadRefused:
            continue  # a FIFO or device: validation reports it, the estimate does not wait on it
        except Exception as exc:  # a plugin's estimate must not break validation of the rest
            log.warning("node %s: memory estimate of '%s' failed: %s: %s", node_id, record.type,
                        type(exc).__name__, exc)
            continue
        found += [NodeEstimate(node_id, int(n.bytes), n.field, n.reason, n.budget, int(n.pixels)) for n in needs]
    return found


def memory_problems(estimates: Iterable[NodeEstimate], device: str = "cpu",
                    available: int | None = None) -> list[Problem]:
    """The needs that cannot fit: over their own budget, or over the memory `device` has free."""
    problems: list[Problem] = []
    free: int | None = available
    for est in estimates:
        if est.budget is not None and est.bytes > est.budget:
            problems.append(Problem(
                f"needs about {format_bytes(est.bytes)} ({est.reason}), over the budget of "
                f"{format_bytes(est.budget)} for this node", est.node_id, est.field))
            continue
        if free is None:
            free = available_bytes(device)
        if est.bytes > free:
            problems.append(Problem(
                f"needs about {format_bytes(est.bytes)} ({est.reason}), but only "
                f"{format_bytes(free)} of memory is available on {device}", est.node_id, est.field))
    return problems
