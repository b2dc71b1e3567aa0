"""Choosing where tensors live: picked at run time, never hard-coded.

CUDA first, then Apple's MPS, then the CPU. fp16 only where it is fast and safe (CUDA); the CPU
and MPS paths stay in fp32 so a seed gives the same pixels run after run.
"""

from __future__ import annotations

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
