"""The loaders that read one model file into one part (CLIP vision towers, style models, model
patches, latent and picture upscalers) share their two halves here: the memory plan's declaration
(the file named by one parameter, sized from its header) and the run (the name resolved through the
model library with a one-line error naming the field, then loaded once through the memory manager
in the device's compute dtype)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Node, NodeError, RunContext
from nodeflow.core.spec import Weights


def file_weights(params: Mapping[str, Any], resolve: Callable[[str], Path], field: str, component: str,
                 output: str) -> list[Weights]:
    """The part the file named by `field` holds, for the memory plan (none while no file is named)."""
    from nodes.models._weights import weight_count

    name = params.get(field)
    count = weight_count(resolve(name)) if isinstance(name, str) and name.strip() else 0
    return [Weights(component, output, count)] if count else []


def load_file(ctx: RunContext, node: type[Node], field: str, name: str, what: str,
              build: Callable[[Path, Any, Any], Any], suffixes: tuple[str, ...] = ()) -> Any:
    """`build(path, dtype, place)` on the file `name` resolves to, once per file, dtype and device.

    `what` names the kind of model in the errors; `suffixes`, if given, are the only file endings
    the part loads from (refused in one line before anything is read)."""
    from nodes.models._model_path import model_path
    from nodes.models._precision import compute_dtype
    from nodes.models._store import load_once

    path = model_path(ctx, name, field, what, folders=False)
    if suffixes and path.suffix.lower() not in suffixes:
        raise NodeError(f"{path.name}: a {what} loads from {' or '.join(suffixes)} files", field)
    dtype = compute_dtype(ctx.device)
    key = (node.type_id, str(path.resolve()), str(dtype), ctx.device)
    return load_once(ctx, node, {field: path}, key, lambda place: build(path, dtype, place))
