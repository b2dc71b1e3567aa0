"""The node registry: every node type the app knows, by stable type id.

Node types come from three places: the built-in `nodes` package, the `nodeflow.nodes` entry-point
group (installed plugins) and `.py` files in the user nodes folder. A plugin that fails to import or
declares a node badly is recorded in `problems` and skipped; it never stops the app. Registering a
type id twice is an error, not a silent overwrite.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import pkgutil
import sys
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from nodeflow.core.errors import NodeFlowError
from nodeflow.core.spec import Node, check_declaration

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "nodeflow.nodes"


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

    def canonical_id(self, type_id: str) -> str:
        return self._aliases.get(type_id, type_id)

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

    def load_builtin(self) -> None:
        """Import each module of the built-in `nodes` package and register its nodes."""
        import nodes

        for info in pkgutil.iter_modules(nodes.__path__):
            if info.name.startswith("_"):
                continue  # private helpers of the node modules (they may import torch)
            name = f"nodes.{info.name}"
            try:
                module = importlib.import_module(name)
            except (Exception, SystemExit) as exc:  # a broken module must not take the app down
                self._report(name, f"failed to import: {_why(exc)}")
                continue
            self.register_module(module, name)

    def load_entry_points(self) -> None:
        """Register nodes from installed plugins (entry-point group `nodeflow.nodes`).

        An entry point may name a module (all its node classes register) or a node class.
        """
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            source = f"plugin '{ep.name}' ({ep.value})"
            try:
                target = ep.load()
            except (Exception, SystemExit) as exc:  # sys.exit() at import ends only the plugin
                self._report(source, f"failed to load: {_why(exc)}")
                continue
            if isinstance(target, ModuleType):
                self.register_module(target, source)
            elif inspect.isclass(target) and issubclass(target, Node):
                try:
                    self.register(target)
                except RegistryError as exc:
                    self._report(source, str(exc))
            else:
                self._report(source, "is neither a module nor a Node class")

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
                spec.loader.exec_module(module)
            except (Exception, SystemExit) as exc:  # sys.exit() at import ends only the plugin
                sys.modules.pop(module_name, None)
                self._report(str(path), f"failed to import: {_why(exc)}")
                continue
            self.register_module(module, str(path))

    def _report(self, source: str, message: str) -> None:
        log.warning("skipped %s: %s", source, message)
        self.problems.append((source, message))


def _why(exc: BaseException) -> str:
    """Why an import failed, as one short line."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r:.40}) while being imported"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def node_classes_in(module: ModuleType) -> Iterable[type[Node]]:
    """Node classes defined (not merely imported) in `module` that declare a type id."""
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if issubclass(obj, Node) and obj is not Node and obj.__module__ == module.__name__ and obj.type_id:
            yield obj


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry: built-ins, installed plugins and the user nodes folder."""
    global _default
    if _default is None:
        from nodeflow.core.paths import user_nodes_dir

        registry = Registry()
        registry.load_builtin()
        registry.load_entry_points()
        registry.load_folder(user_nodes_dir())
        _default = registry
    return _default
