"""Turns executor events into terminal output: a tqdm bar per running node, one line per outcome."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from nodeflow.core.errors import shown
from nodeflow.engine import events as ev


class ProgressPrinter:
    """Executor subscriber for the CLI. Set `graph` before a run so nodes are named by title."""

    def __init__(self, quiet: bool = False, stream: Any = None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.graph: Any = None
        #: Node messages naming a path under this folder prefix are not shown: a batch job saves into
        #: a private scratch folder, and the driver prints the files' final names instead.
        self.hide_paths_under: str | None = None
        self._bar: tqdm | None = None

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.NodeProgress):
            self._progress(event)
        elif isinstance(event, ev.NodeFinished):
            self._close()
            how = "cached" if event.cached else f"{event.seconds:.2f}s ({event.reason})"
            self._line(f"{self._name(event.node_id)}: {how}")
        elif isinstance(event, ev.NodeFailed):
            self._close()
            tqdm.write(f"error: {shown(event.message, None)}", file=sys.stderr)
        elif isinstance(event, ev.NodeSkipped):
            self._close()
            self._line(f"{self._name(event.node_id)}: skipped ({event.reason})")
        elif isinstance(event, ev.NodeMessage):
            if not (self.hide_paths_under and self.hide_paths_under in event.text):
                tqdm.write(shown(event.text, None), file=self.stream)
        elif isinstance(event, ev.RunFinished):
            self._close()
            state = "cancelled" if event.cancelled else "done" if event.ok else "finished with errors"
            self._line(f"run {state} in {event.seconds:.2f}s")

    def _name(self, node_id: str) -> str:
        record = self.graph.nodes.get(node_id) if self.graph is not None else None
        if record is None:
            return f"node {shown(node_id)}"
        return shown(f"node {shown(node_id)} ({self.graph.title(node_id)})", 120)

    def _progress(self, event: ev.NodeProgress) -> None:
        if self.quiet:
            return
        if self._bar is None:
            self._bar = tqdm(total=event.total, desc=self._name(event.node_id), file=self.stream,
                             leave=False, dynamic_ncols=True)
        self._bar.total = event.total
        self._bar.n = event.step
        self._bar.refresh()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _line(self, text: str) -> None:
        if not self.quiet:
            tqdm.write(shown(text, None), file=self.stream)
