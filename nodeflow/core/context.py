"""What a running node may ask of the executor: progress, cancel, device, shared models, paths.

Nodes receive a `RunContext` as the first argument of `run`. It is the only channel between a node
and the engine, which keeps nodes free of Qt and of engine internals and makes them easy to call
directly in a test (`RunContext()` works standalone).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from nodeflow.core.errors import Cancelled, shown
from nodeflow.core.reads import ReadRule

log = logging.getLogger("nodeflow.node")

#: The longest message a node may put in the run log, in characters.
MESSAGE_LENGTH = 2000

ProgressCallback = Callable[[str, int, int, Any], None]


class CancelToken:
    """Thread-safe flag the GUI or CLI sets; nodes check it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class ModelStore:
    """Keeps loaded models so each (kind, path, dtype, device) is loaded once and shared.

    The engine owns one per process, a memory manager that also keeps them under a budget
    (`nodeflow.engine.memory`); `RunContext()` in a test gets this plain, unbounded one.
    """

    def __init__(self) -> None:
        self._items: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, load: Callable[[], Any], size_hint: int = 0) -> Any:
        """The value loaded for `key`, calling `load` the first time. `size_hint` (bytes the load
        will take, 0 if unknown) lets a budgeted store make room before loading."""
        with self._lock:
            if key not in self._items:
                self._items[key] = load()
            return self._items[key]

    def evict(self, key: tuple | None = None) -> None:
        """Forget one model, or all of them (frees their memory once nothing else holds them)."""
        with self._lock:
            if key is None:
                self._items.clear()
            else:
                self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)

    def load_place(self, device: str) -> str:
        """Where a loader should put weights that run on `device`: there, for this plain store."""
        return device

    def ensure(self, value: Any) -> None:
        """Make the weights inside `value` usable now (a budgeted store may have freed or
        offloaded them); for nodes that reach a model the engine did not hand them as an input."""


@dataclass
class RunContext:
    """Per-node view of the run. Cheap to build; one per node execution."""

    node_id: str = "?"
    device: str = "cpu"
    cancel_token: CancelToken = field(default_factory=CancelToken)
    models: ModelStore = field(default_factory=ModelStore)
    #: Whether someone shows latent previews (the GUI); samplers compute none otherwise.
    previews: bool = False
    output_dir: Path = field(default_factory=Path.cwd)
    #: Folders relative paths are looked up in (the workflow's folder first).
    search_dirs: tuple[Path, ...] = ()
    #: Where files named by the workflow may be read (`core.reads`); None reads anywhere (a node
    #: called directly in a test). The engine always sets it.
    reads: ReadRule | None = None
    #: The workflow as saved JSON text, for nodes that embed it (Save Image).
    workflow_json: str = ""
    on_progress: ProgressCallback | None = None
    on_model_file: Callable[[Path], None] | None = None
    #: The engine's model library lookup: (kind, name) -> the file, or None when there is none.
    on_find_model: Callable[[str, str], Path | None] | None = None
    on_message: Callable[[str, str], None] | None = None
    on_images: Callable[[str, list[Any]], None] | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled

    def check_cancelled(self) -> None:
        """Raise `Cancelled` if the user asked to stop. Long nodes call this between steps."""
        if self.cancel_token.cancelled:
            raise Cancelled(f"node {self.node_id} cancelled")

    def progress(self, step: int, total: int, preview: Any = None) -> None:
        """Report `step` of `total` (with an optional preview image) and honour a cancel."""
        if self.on_progress is not None:
            self.on_progress(self.node_id, step, total, preview)
        self.check_cancelled()

    def resolve_path(self, name: str, field: str | None = None) -> Path:
        """Find a file named in a workflow: absolute, or relative to one of `search_dirs`.

        A path the read rule refuses (outside the input roots, or a FIFO, socket or device) raises
        a NodeError naming `field`, before anything opens it.
        """
        from nodeflow.core.errors import NodeError
        from nodeflow.core.paths import resolve_path
        from nodeflow.core.reads import ReadRefused

        path = resolve_path(name, self.search_dirs)
        if self.reads is not None:
            try:
                self.reads.check(path, name)
            except ReadRefused as exc:
                raise NodeError(str(exc), field) from None
        return path

    def input_file(self, name: str, field: str, what: str) -> Path:
        """The existing file a loader's `field` names (a picture, a sound, a video): refused in one
        line naming `field` when none is chosen, the read rule forbids it or it is not there."""
        from nodeflow.core.errors import NodeError

        if not name.strip():
            raise NodeError(f"no {what} chosen", field)
        path = self.resolve_path(name, field)
        if not path.is_file():
            raise NodeError(f"{what} not found: {name} (looked for {path})", field)
        return path

    def find_model(self, kind: str, name: str) -> Path | None:
        """A model file a node names itself (an embedding in a prompt), found as the run finds
        every model: through the model library, the workflow's folder included. None if absent."""
        return self.on_find_model(kind, name) if self.on_find_model is not None else None

    def used_model_file(self, path: Path) -> None:
        """Tell the engine a model file was used, so the workflow's manifest records its hash."""
        if self.on_model_file is not None:
            self.on_model_file(path)

    def report(self, message: str) -> None:
        """A line for the run log (GUI log panel, CLI output), escaped and cut to MESSAGE_LENGTH
        characters: a node quoting a million-character prompt must not flood the log."""
        message = shown(message, MESSAGE_LENGTH)
        log.info("%s", message)
        if self.on_message is not None:
            self.on_message(self.node_id, message)

    def show_images(self, images: list[Any]) -> None:
        """Hand finished images (PIL) to whoever watches the run: the GUI's output viewer."""
        if self.on_images is not None:
            self.on_images(self.node_id, images)

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the node (e.g. a truncated prompt);
        escaped and cut like `report`."""
        message = shown(message, MESSAGE_LENGTH)
        log.warning("node %s: %s", self.node_id, message)
        if self.on_message is not None:
            self.on_message(self.node_id, f"warning: {message}")

    def write_output(self, prefix: str, suffix: str, write: Callable[[BinaryIO], None],
                     field: str = "filename_prefix") -> Path:
        """Write a new `<prefix>_<counter><suffix>` in the output folder and return its path.

        Every saver goes through here: `prefix` must obey the output rule (`core.outputs`; a
        NodeError naming `field` otherwise), the bytes `write` puts into the handle appear under
        the final name only once complete, and an existing file is never replaced.
        """
        from nodeflow.core.atomic import WriteError, write_new
        from nodeflow.core.errors import NodeError
        from nodeflow.core.outputs import OutputPathError, output_dir_problem, output_target

        problem = output_dir_problem(self.output_dir)
        if problem is not None:
            raise NodeError(problem, field)
        try:
            folder, stem = output_target(self.output_dir, prefix)
        except OutputPathError as exc:
            raise NodeError(str(exc), field) from None
        try:
            return write_new(folder, stem, suffix, write)
        except WriteError as exc:  # a full disk: the node and its field, then the file
            raise NodeError(str(exc), field) from None
