"""A run's output is NodeFlow's own: the model libraries' warnings and progress bars stay out of it."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import logging
from nodeflow.engine import Executor
Executor(device="cpu")
import diffusers, transformers
from diffusers.utils import logging as dlog
from transformers.utils import logging as tlog
print(dlog.get_verbosity() == logging.ERROR, tlog.get_verbosity() == logging.ERROR,
      dlog.is_progress_bar_enabled(), tlog.is_progress_bar_enabled())
"""


def test_an_executor_quiets_diffusers_and_transformers():
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("DIFFUSERS_VERBOSITY", "TRANSFORMERS_VERBOSITY", "HF_HUB_DISABLE_PROGRESS_BARS")}
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=300)
    assert out.stdout.split() == ["True", "True", "False", "False"], out.stderr[-2000:]
