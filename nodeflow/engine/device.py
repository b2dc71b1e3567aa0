"""Choosing where tensors live: picked at run time, never hard-coded.

CUDA first, then Apple's MPS, then the CPU. fp16 only where it is fast and safe (CUDA); the CPU
and MPS paths stay in fp32 so a seed gives the same pixels run after run.
"""

from __future__ import annotations

import os
import sys

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailable(RuntimeError):
    pass


def pick_device(preference: str = "auto") -> str:
    """Resolve "auto" to the best device here; check that an explicit choice exists."""
    if preference not in DEVICE_CHOICES:
        raise DeviceUnavailable(f"unknown device '{preference}' (choose {', '.join(DEVICE_CHOICES)})")
    if preference == "cpu":
        return "cpu"
    import torch

    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if preference == "cuda" and not cuda:
        raise DeviceUnavailable("CUDA was asked for, but torch sees no CUDA device")
    if preference == "mps" and not mps:
        raise DeviceUnavailable("MPS was asked for, but torch sees no Apple GPU")
    if preference != "auto":
        return preference
    return "cuda" if cuda else "mps" if mps else "cpu"


def default_threads() -> int:
    """Torch's intra-op thread count for a batch's jobs: the CPUs this process may use.

    A batch pins one count for every job, wherever it runs, rather than leaving it to each process:
    Ray starts its workers with OMP_NUM_THREADS=1, and another count sums in another order, which
    moves some pixels by a level. The count a run used is recorded in its manifest.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def pin_threads(count: int) -> None:
    """Run torch's CPU kernels on `count` threads from now on (a process-wide setting)."""
    import torch

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)


def threads_in_use() -> int | None:
    """Torch's current intra-op thread count, or None when torch was never imported (no tensor work)."""
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None
