"""How every loader node loads: once per key, through the run's model store, sized and placed.

The store (the engine's memory manager) keeps loaded parts under a budget. It can keep that
promise only if it knows before a load how many bytes are coming (it frees or offloads others
first, instead of going over and evicting afterwards) and if the weights arrive where it wants
them (on CUDA/MPS: CPU RAM, moved to the device part by part when a node needs them). The size
is the loader's own `weights` declaration, the same numbers the memory plan reads, so the plan's
refusal and the load's room-making agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Node, RunContext


def load_once(ctx: RunContext, node: type[Node], paths: Mapping[str, Any], key: tuple,
              load: Callable[[str], Any]) -> Any:
    """The model stored under `key`, loading it with `load(place)` the first time.

    `paths` are the node's parameter values with each model field already resolved to its path
    (as the memory plan resolves them), so `node.weights` sizes exactly what `load` reads.
    """
    from nodes.models._precision import compute_dtype

    dtype_bytes = compute_dtype(ctx.device).itemsize
    params = {name: str(value) if isinstance(value, Path) else value for name, value in paths.items()}
    size = sum(w.nbytes(dtype_bytes) for w in node.weights(params, Path))
    place = ctx.models.load_place(ctx.device)
    return ctx.models.get(key, lambda: load(place), size_hint=size)
