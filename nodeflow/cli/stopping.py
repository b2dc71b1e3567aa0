"""How `nodeflow run` stops: Ctrl+C once cancels after the current step; Ctrl+C twice or SIGTERM
stops now, with one line and no traceback.

Stopping now raises `Interrupted` in the main thread wherever it is; the executor lets it through
(it is not a node's failure) and a file being written is discarded by `core.atomic`, so no
truncated output is left under its final name. The process then exits with 128 + the signal's
number, as shells expect.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from nodeflow.core.context import CancelToken
from nodeflow.core.errors import Interrupted

_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


@contextmanager
def stop_signals(cancel: CancelToken) -> Iterator[None]:
    """Install the handlers for the block; turn a stop into SystemExit(128 + signal number)."""
    stopped: list[int] = []

    def stop(signum: int, how: str) -> None:
        for sig in _SIGNALS:  # a third Ctrl+C must not interrupt the clean-up
            signal.signal(sig, signal.SIG_IGN)
        stopped.append(signum)
        raise Interrupted(how)

    def on_sigint(signum: int, _frame: object) -> None:
        if cancel.cancelled:
            stop(signum, "a second Ctrl+C")
        print("\ncancelling after the current step (Ctrl+C again to stop now)", file=sys.stderr)
        cancel.cancel()

    def on_sigterm(signum: int, _frame: object) -> None:
        cancel.cancel()
        stop(signum, "SIGTERM")

    handlers = {signal.SIGINT: on_sigint}
    if len(_SIGNALS) > 1:
        handlers[_SIGNALS[1]] = on_sigterm
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield
    except Interrupted as exc:
        print(f"nodeflow: stopped by {exc.how}; files being written were discarded", file=sys.stderr)
        raise SystemExit(128 + (stopped[0] if stopped else signal.SIGTERM)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
