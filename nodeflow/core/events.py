"""A tiny observer, so the core can announce changes without knowing who listens (GUI, tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Signal:
    """A list of callbacks called in subscription order with the emitted arguments."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        self._subscribers.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._subscribers.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._subscribers):
            callback(*args)
