"""The model libraries' own chatter stays out of NodeFlow's output.

diffusers and transformers print progress bars ("Loading pipeline components", "Loading
weights") and warnings meant for their developers (an optional torchvision image processor, an
empty list of modules kept in float32) between NodeFlow's per-node progress lines. A run reports
through its own events; errors still surface as exceptions. Called by every Executor, so the CLI,
the editor, Ray workers and the server are all quiet; `--debug` (log level DEBUG) keeps the chatter.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import os
import sys
from types import ModuleType

_ENVIRONMENT = {"DIFFUSERS_VERBOSITY": "error", "TRANSFORMERS_VERBOSITY": "error",
                "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"}
#: The libraries' logging modules. diffusers' progress bars have no environment switch, so they
#: are turned off when its logging module is first imported (or at once if it already was).
_LOGGING_MODULES = ("diffusers.utils.logging", "transformers.utils.logging")


def _silence(module: ModuleType) -> None:
    module.set_verbosity_error()
    module.disable_progress_bar()


class _SilenceOnImport(importlib.abc.MetaPathFinder):
    """Runs `_silence` on a library's logging module right after Python first executes it."""

    def find_spec(self, name: str, path, target=None):
        if name not in _LOGGING_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            _silence(module)

        spec.loader.exec_module = exec_module
        return spec


def quiet_libraries() -> None:
    """Quiet diffusers and transformers, whether or not they are imported yet. A variable the
    user set is left as it is; with debug logging on, nothing is changed."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        return
    for name, value in _ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if not any(isinstance(finder, _SilenceOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SilenceOnImport())
    for name in _LOGGING_MODULES:
        if name in sys.modules:
            _silence(sys.modules[name])
