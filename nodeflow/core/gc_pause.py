"""Pausing Python's cycle collector while a large graph is built or checked.

Loading a 200,000-node workflow makes millions of small objects (dicts, lists, records) and no
reference cycles; the collector, triggered by every few hundred allocations, walks the ever
larger heap again and again and took over half the load time. Reference counting still frees
everything; the collector runs again (and catches up) when the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Run the block with the cycle collector paused (left paused if it already was)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
