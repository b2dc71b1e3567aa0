"""Device choice has one owner: the torch-free guess (plan, editor estimate) agrees with the pick."""

from __future__ import annotations

import subprocess
import sys

from nodeflow.engine import device


def test_the_guess_is_what_the_pick_would_be_here():
    code = ("from nodeflow.engine.device import guess_device; guess = guess_device(); import sys; "
            "assert 'torch' not in sys.modules; from nodeflow.engine.device import pick_device; "
            "print(guess, pick_device('auto'))")
    guess, pick = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 timeout=300).stdout.split()
    assert guess == pick


def test_a_driver_without_a_cuda_build_of_torch_is_not_cuda(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(device, "_torch_has_cuda", lambda: False)
    monkeypatch.setattr(device.Path, "is_dir", lambda self: True)  # /proc/driver/nvidia/gpus "exists"
    assert device.guess_device() != "cuda"
