"""Import heavy libraries on first use, so helper modules can be listed without loading torch.

The registry imports every module of the `nodes` package to find node classes, private helpers
included. Helpers write `torch = lazy("torch")` at top level and use `torch.` as usual; the real
import happens the first time an attribute is read, i.e. inside a node's `run`.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for a module until an attribute is first read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name}>"


def lazy(name: str) -> Any:
    return LazyModule(name)
