"""Choosing where tensors live: picked at run time, never hard-coded.

CUDA first, then Apple's MPS, then the CPU. fp16 only where it is fast and safe (CUDA); the CPU
and MPS paths stay in fp32 so a seed gives the same pixels run after run.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from pathlib import Path

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


def guess_device() -> str:
    """Where `pick_device("auto")` goes, worked out without importing torch (the plan and the
    editor's estimate must stay instant): CUDA only when an NVIDIA driver is present and the
    installed torch is a CUDA build (a CPU wheel beside a driver still runs on the CPU), MPS on
    Apple silicon. Once torch is loaded, pick_device itself answers."""
    if "torch" in sys.modules:
        return pick_device("auto")
    if (Path("/proc/driver/nvidia/gpus").is_dir() or Path("/dev/nvidia0").exists()) and _torch_has_cuda():
        return "cuda"
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return "mps"
    return "cpu"


def _torch_has_cuda() -> bool:
    """Whether the installed torch carries CUDA kernels, from its files (no import)."""
    spec = importlib.util.find_spec("torch")
    folders = [Path(p) / "lib" for p in (spec.submodule_search_locations or [])] if spec else []
    return any(any(f.glob("libtorch_cuda*")) or any(f.glob("torch_cuda*")) for f in folders if f.is_dir())


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
