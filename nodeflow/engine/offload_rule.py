"""Which of a node's model components run layer by layer: one rule for the run and for the plan.

On CUDA and MPS a component the device cannot hold beside a node's work runs through accelerate's
sequential offload (its layers visit the device one at a time from CPU RAM). The memory manager
decides it when the node starts (`engine.memory`); the memory plan says it before Run
(`engine.memory_plan`). Both ask this module, so the plan names the components the run streams.
Torch-free: the plan imports it without torch.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)
#: Devices whose components are offloaded to CPU RAM (accelerate's hooks) rather than freed, and
#: that run a component too big for the budget layer by layer.
OFFLOAD_DEVICES = ("cuda", "mps")


def offloads(device: str) -> bool:
    """Whether components on `device` ("cuda:1" counts as "cuda") are offloaded and streamed."""
    return device.split(":")[0] in OFFLOAD_DEVICES


def streamed(sizes: Mapping[Key, int], room: float) -> list[Key]:
    """The components of `sizes` (bytes each, all needed by one node) that run layer by layer when
    `room` bytes of the budget are left beside the node's work: the largest come first while they
    fit, and each that does not fit is streamed, also one already on the device (a node that only
    passed it on, a switch, needed no work beside it; the sampler after it does)."""
    found = []
    for key in sorted(sizes, key=lambda k: -sizes[k]):
        if sizes[key] > room:
            found.append(key)
        else:
            room -= sizes[key]
    return found
