"""The node registry: every node type the app knows, by stable type id.

Node types come from two places: the `nodeflow.nodes` entry-point group and `.py` files in the user
nodes folder. The built-in library registers exactly as an installed plugin does: NodeFlow's own
pyproject.toml declares its `nodes` package in that group, so the core imports no node module and
names no node type. An entry point may name a node class, a module or a package (every public module
in it). A plugin that fails to import or declares a node badly is recorded in `problems` and
skipped; it never stops the app. Registering a type id twice is an error, not a silent overwrite;
NodeFlow's own entry points load first, so a plugin re-using a built-in id is the one reported.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import os
import pkgutil
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from nodeflow.core.errors import NodeFlowError, one_line
from nodeflow.core.spec import Node, check_declaration

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "nodeflow.nodes"
#: This project's distribution: its entry points (the built-in nodes) register before plugins'.
DISTRIBUTION = "nodeflow"


class RegistryError(NodeFlowError):
    """A node type that cannot be registered (bad declaration, duplicate id)."""


class Registry:
    def __init__(self) -> None:
        self._types: dict[str, type[Node]] = {}
        self._aliases: dict[str, str] = {}
        #: (source, message) for each plugin or node that was skipped.
        self.problems: list[tuple[str, str]] = []

    def register(self, cls: type[Node]) -> type[Node]:
        """Add a node type; raise RegistryError for a bad declaration or a duplicate type id."""
        try:
            errors = check_declaration(cls)
        except Exception as exc:  # a declaration so broken that checking it raises
            errors = [f"cannot be read ({type(exc).__name__}: {exc})"]
        if errors:
            raise RegistryError(f"node class {cls.__qualname__} " + "; ".join(errors))
        for type_id in (cls.type_id, *cls.legacy_ids):
            if type_id in self._types or type_id in self._aliases:
                raise RegistryError(f"node type '{type_id}' is registered twice ({cls.__qualname__})")
        self._types[cls.type_id] = cls
        for legacy in cls.legacy_ids:
            self._aliases[legacy] = cls.type_id
        return cls

    def get(self, type_id: str) -> type[Node] | None:
        """The node class for a type id (or one of its legacy ids); None if unknown."""
        return self._types.get(type_id) or self._types.get(self._aliases.get(type_id, ""))

    def reroute_type(self) -> type[Node] | None:
        """The node type the editor puts on a wire as a reroute dot (first by type id), if any."""
        return next((cls for _, cls in sorted(self._types.items()) if cls.is_reroute()), None)

    def __contains__(self, type_id: str) -> bool:
        return self.get(type_id) is not None

    def __iter__(self) -> Iterator[type[Node]]:
        return iter(sorted(self._types.values(), key=lambda c: (c.category, c.title)))

    def __len__(self) -> int:
        return len(self._types)

    # -- loading -------------------------------------------------------------------------------

    def register_module(self, module: ModuleType, source: str) -> int:
        """Register every node class defined in `module`; report (not raise) the bad ones."""
        count = 0
        for cls in node_classes_in(module):
            try:
                self.register(cls)
                count += 1
            except RegistryError as exc:
                self._report(source, str(exc))
        return count

    def load_entry_points(self) -> None:
        """Register nodes from the entry-point group `nodeflow.nodes` (built-ins and plugins)."""
        points = sorted(entry_points(group=ENTRY_POINT_GROUP),
                        key=lambda ep: (getattr(ep.dist, "name", None) != DISTRIBUTION, ep.name))
        if not any(getattr(ep.dist, "name", None) == DISTRIBUTION for ep in points):
            self._report(DISTRIBUTION, "its metadata declares no node entry points, so the built-in "
                         "nodes are missing; reinstall it (pip install -e .)")
        for ep in points:
            source = f"plugin '{ep.name}' ({ep.value})"
            try:
                with importing(source):
                    target = ep.load()
            except _PLUGIN_FAILURES as exc:  # sys.exit() at import ends only the plugin
                self._report(source, f"failed to load: {_why(exc)}")
                continue
            if isinstance(target, ModuleType):
                self.register_package(target, source)
            elif inspect.isclass(target) and issubclass(target, Node):
                try:
                    self.register(target)
                except RegistryError as exc:
                    self._report(source, str(exc))
            else:
                self._report(source, "is neither a module nor a Node class")

    def register_package(self, module: ModuleType, source: str) -> None:
        """A module's node classes; for a package, those of each public (not `_`-prefixed) module
        and, recursively, of each public subpackage (the built-ins live in one per family)."""
        self.register_module(module, source)
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            if info.name.startswith("_"):
                continue  # private helpers of the node modules
            name = f"{module.__name__}.{info.name}"
            try:
                with importing(name):
                    submodule = importlib.import_module(name)
            except _PLUGIN_FAILURES as exc:  # a broken module must not take the app down
                self._report(name, f"failed to import: {_why(exc)}")
                continue
            if info.ispkg:
                self.register_package(submodule, name)
            else:
                self.register_module(submodule, name)

    def load_folder(self, folder: Path) -> None:
        """Register nodes from every `*.py` file in a user nodes folder."""
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.py")):
            module_name = f"nodeflow_user_nodes.{path.stem}"
            try:
                spec = importlib.util.spec_from_file_location(module_name, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                with importing(str(path)):
                    spec.loader.exec_module(module)
            except _PLUGIN_FAILURES as exc:  # sys.exit() at import ends only the plugin
                sys.modules.pop(module_name, None)
                self._report(str(path), f"failed to import: {_why(exc)}")
                continue
            self.register_module(module, str(path))

    def _report(self, source: str, message: str) -> None:
        log.warning("skipped %s: %s", source, message)
        self.problems.append((source, message))


class PluginExit(BaseException):  # noqa: N818 - named for what the plugin did, like SystemExit
    """A plugin called os._exit while being imported; raised instead, so only the plugin ends."""

    def __init__(self, status: object):
        self.status = status
        super().__init__(status)


#: What a plugin's import may raise and still be reported and skipped (a KeyboardInterrupt raised
#: by the plugin's own code too: a broken plugin must not look like the user's Ctrl+C).
_PLUGIN_FAILURES = (Exception, SystemExit, KeyboardInterrupt, PluginExit)
#: Seconds a plugin may take to import before the user is told which one is loading.
SLOW_IMPORT_S = 5.0


@contextmanager
def importing(source: str) -> Iterator[None]:
    """Import a plugin under watch: os._exit raises PluginExit instead of ending the process
    silently with the plugin's status, and an import still running after SLOW_IMPORT_S seconds
    (a plugin that loops) is named on stderr, so a hang says who hangs."""
    def refuse_exit(status: object = 0) -> None:
        raise PluginExit(status)

    def still_loading() -> None:
        print(f"warning: still importing {source} after {SLOW_IMPORT_S:.0f} s (a plugin that never finishes "
              "loading hangs every command; remove it from the nodes folder or uninstall it)", file=sys.stderr)

    watch = threading.Timer(SLOW_IMPORT_S, still_loading)
    watch.daemon = True
    real_exit, os._exit = os._exit, refuse_exit
    watch.start()
    try:
        yield
    finally:
        watch.cancel()
        os._exit = real_exit


def _why(exc: BaseException) -> str:
    """Why an import failed, as one short line."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r:.40}) while being imported"
    if isinstance(exc, PluginExit):
        return f"it called os._exit({exc.status!r:.40}) while being imported"
    if isinstance(exc, KeyboardInterrupt):
        return "it raised KeyboardInterrupt while being imported"
    return one_line(exc)


def node_classes_in(module: ModuleType) -> Iterable[type[Node]]:
    """Node classes defined (not merely imported) in `module` that declare a type id."""
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if issubclass(obj, Node) and obj is not Node and obj.__module__ == module.__name__ and obj.type_id:
            yield obj


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry: built-ins and installed plugins, then the user nodes folder."""
    global _default
    if _default is None:
        from nodeflow.core.paths import user_nodes_dir

        registry = Registry()
        registry.load_entry_points()
        registry.load_folder(user_nodes_dir())
        _default = registry
    return _default
