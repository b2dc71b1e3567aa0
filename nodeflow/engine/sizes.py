"""Measuring what a value holds, in bytes (reading and printing sizes is `core.byte_sizes`).

Measuring is duck-typed (tensors have `untyped_storage`, modules have `named_parameters`), so this
module never imports torch: the plan command and the CLI can use it before torch is loaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

#: Dataclass field metadata {"weights": ON_DEMAND} marks a reference to a model that its holder
#: does not need to run (a MODEL's VAE for previews): leaves() does not open it, so a node given
#: the holder does not pin it; whoever uses it asks the store (`ModelStore.ensure`).
ON_DEMAND = "on demand"


def is_tensor(value: Any) -> bool:
    return hasattr(value, "untyped_storage") and hasattr(value, "element_size")


def is_module(value: Any) -> bool:
    return callable(getattr(value, "named_parameters", None)) and callable(getattr(value, "named_buffers", None))


def leaves(value: Any, depth: int = 0) -> Iterator[Any]:
    """Tensors and modules inside a node value (dicts, lists, tuples and dataclasses are opened)."""
    if depth > 8 or value is None or isinstance(value, (str, bytes, int, float, bool)):
        return
    if is_tensor(value) or is_module(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.metadata.get("weights") != ON_DEMAND:
                yield from leaves(getattr(value, f.name, None), depth + 1)


def module_tensors(module: Any) -> Iterator[Any]:
    """Every parameter and buffer of a module, each once."""
    seen: set[int] = set()
    for _, tensor in module.named_parameters(remove_duplicate=False):
        if id(tensor) not in seen:
            seen.add(id(tensor))
            yield tensor
    for _, tensor in module.named_buffers(remove_duplicate=False):
        if tensor is not None and id(tensor) not in seen:
            seen.add(id(tensor))
            yield tensor


def tensor_bytes(tensor: Any) -> int:
    """Bytes a tensor's elements take (0 for a meta tensor, which holds none)."""
    if getattr(tensor, "is_meta", False):
        return 0
    return int(tensor.numel()) * int(tensor.element_size())


def module_bytes(module: Any, skip: Callable[[Any], bool] = lambda t: False) -> int:
    """Bytes of a module's weights, leaving out tensors `skip` claims (counted elsewhere)."""
    return sum(tensor_bytes(t) for t in module_tensors(module) if not skip(t))


def value_bytes(value: Any, device_type: str | None = None, skip: Callable[[Any], bool] = lambda t: False) -> int:
    """Bytes held by a node's outputs: tensors (each storage once) and the weights of modules
    that `skip` does not claim (a LoRA's patched layers, but not the checkpoint they share).

    With `device_type`, only tensors on that kind of device count (a CUDA budget ignores pictures
    kept in RAM).
    """
    total, seen = 0, set()
    for leaf in leaves(value):
        tensors = [leaf] if is_tensor(leaf) else list(module_tensors(leaf))
        for tensor in tensors:
            if skip(tensor) or (device_type is not None and tensor.device.type != device_type):
                continue
            if getattr(tensor, "is_meta", False):
                continue
            storage = tensor.untyped_storage()
            ident = (storage.data_ptr(), tensor.device.type)
            if ident in seen:
                continue
            seen.add(ident)
            total += int(storage.nbytes())
    return total
