"""How a memory plan reads against its budget: one rule for `nodeflow plan` and the GUI's estimate.

`MemoryPlan.peak` is the peak the plan reaches while the memory manager evicts to stay under the
budget, so it is under the budget whenever the workflow can run at all. What tells a user that a
budget costs time (components evicted and re-read from their files, or offloaded to RAM) is the
peak the workflow asks for: the one it would reach if nothing were ever evicted.
"""

from __future__ import annotations

from nodeflow.core.errors import Problem
from nodeflow.engine.memory_plan import MemoryPlan

FITS, OVER, CANNOT = "fits", "over", "cannot"


def peak_keeping_all(plan: MemoryPlan) -> int:
    """The peak if no model component were evicted: each stays once a node needed it."""
    loaded: dict[str, int] = {}
    peak = plan.peak
    for node in plan.nodes:
        loaded.update(node.components)
        peak = max(peak, sum(loaded.values()) + node.work)
    return peak


def verdict(plan: MemoryPlan, problems: list[Problem]) -> str:
    """CANNOT when `problems` (the plan's, as a run is refused with) say a node cannot fit; OVER
    when the workflow asks for more than the budget, so components will be evicted or offloaded
    (slower, same pictures); FITS otherwise."""
    if problems:
        return CANNOT
    return OVER if peak_keeping_all(plan) > plan.budget else FITS
