"""The layering rules, checked by reading the source (ast), not by importing it.

Every import counts: module level, under `if TYPE_CHECKING:` and inside functions. A circle is a
circle of knowledge even when Python would tolerate it at run time.

- no import circle among the modules of `nodeflow/` and `nodes/`;
- core/, library/ and interop/ import neither `nodes` nor Qt nor torch; engine/ and nodes/ never
  import Qt; cli modules import no heavy library at top level (start-up stays instant);
- dependencies point the way DESIGN.md draws them: gui -> jobs -> engine -> library -> core,
  serve -> jobs, interop -> library -> core, nodes -> core, cli -> anything. interop (other tools'
  file formats) is a translator the front ends call: gui and serve open ComfyUI files through it;
- node helpers (`_`-prefixed modules of nodes/) never import public node modules;
- no source file outside tools/ and tests/ is longer than 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nodeflow", "nodes")
QT = {"PySide6", "shiboken6", "PyQt5", "PyQt6"}
HEAVY = {"torch", "diffusers", "transformers", "accelerate", "ray", "spandrel", *QT}
#: folder (relative to ROOT) -> top-level names its modules must never import.
FORBIDDEN = {
    "nodeflow/core": {"nodes", "torch", *QT},
    "nodeflow/library": {"nodes", "torch", *QT},
    "nodeflow/interop": {"nodes", "torch", *QT},
    "nodeflow/engine": QT,
    "nodeflow/jobs": QT,
    "nodeflow/serve": QT,
    "nodes": QT,
}
#: layer -> the layers its modules may import (their own included; cli may import anything).
ALLOWED_LAYERS = {
    "core": {"core"},
    "library": {"library", "core"},
    "interop": {"interop", "library", "core"},
    "engine": {"engine", "library", "core"},
    "jobs": {"jobs", "engine", "library", "core"},
    "serve": {"serve", "jobs", "engine", "interop", "library", "core"},
    "gui": {"gui", "jobs", "engine", "interop", "library", "core"},
    "nodes": {"nodes", "core"},
}
MAX_LINES = 400
LINE_LIMIT_EXEMPT = ("tools", "tests", "build")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports_of(path: Path, name: str, known: set[str], top_level_only: bool = False) -> set[str]:
    """Modules `path` imports, every import statement counted (unless `top_level_only`).

    `from a.b import c` names the module a.b.c when that is a module of ours, else a.b.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    nodes = tree.body if top_level_only else ast.walk(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
    return found


def import_graph() -> nx.DiGraph:
    files = source_files()
    known = set(files)
    graph = nx.DiGraph()
    for name, path in files.items():
        graph.add_node(name)
        for target in imports_of(path, name, known):
            if target in known and target != name:
                graph.add_edge(name, target)
    return graph


def test_no_import_circles():
    graph = import_graph()
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert circles == [], "import circles (TYPE_CHECKING and function-level imports count):\n" + "\n".join(
        " <-> ".join(c) for c in circles)


def test_layers_import_only_what_they_may():
    files = source_files()
    known = set(files)
    broken = []
    for name, path in files.items():
        rel = path.relative_to(ROOT).as_posix()
        for folder, banned in FORBIDDEN.items():
            if rel.startswith(folder + "/"):
                for target in imports_of(path, name, known):
                    if target.split(".")[0] in banned:
                        broken.append(f"{rel} imports {target}")
    assert broken == []


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "nodes":
        return "nodes"
    if parts[0] == "nodeflow" and len(parts) > 1:
        return parts[1]
    return None


def test_dependencies_point_the_way_design_draws_them():
    files = source_files()
    known = set(files)
    broken = sorted(f"{name} imports {target}" for name, path in files.items()
                    if _layer(name) in ALLOWED_LAYERS
                    for target in imports_of(path, name, known)
                    if target in known and _layer(target) in ALLOWED_LAYERS | {"cli": None}
                    and _layer(target) not in ALLOWED_LAYERS[_layer(name)])
    assert broken == []


def test_node_helpers_never_import_public_node_modules():
    files = source_files()
    known = set(files)

    def public_node_module(module: str) -> bool:
        parts = module.split(".")
        return (parts[0] == "nodes" and module in known and not files[module].name == "__init__.py"
                and not parts[-1].startswith("_") and module not in ("nodes.values", "nodes.media"))

    broken = sorted(f"{name} imports {target}" for name, path in files.items()
                    if name.startswith("nodes.") and name.split(".")[-1].startswith("_")
                    for target in imports_of(path, name, known) if public_node_module(target))
    assert broken == []


def test_cli_modules_import_no_heavy_library_at_top_level():
    files = source_files()
    known = set(files)
    broken = [f"{path.relative_to(ROOT)} imports {target}"
              for name, path in files.items() if name.startswith("nodeflow.cli")
              for target in imports_of(path, name, known, top_level_only=True)
              if target.split(".")[0] in HEAVY]
    assert broken == []


def test_source_files_stay_small():
    long = []
    tops = [p for p in ROOT.iterdir() if p.name not in LINE_LIMIT_EXEMPT and not p.name.startswith(".")]
    paths = [p for top in tops for p in ([top] if top.is_file() else top.rglob("*.py")) if p.suffix == ".py"]
    for path in sorted(paths):
        rel = path.relative_to(ROOT)
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES:
            long.append(f"{rel}: {count} lines")
    assert long == []


@pytest.mark.parametrize("source, expected", [
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nodeflow.gui.b import B\n", "nodeflow.gui.b"),
    ("def f():\n    from nodeflow.gui import b\n", "nodeflow.gui.b"),
    ("from . import b\n", "nodeflow.gui.b"),
    ("from .b import B\n", "nodeflow.gui.b"),
])
def test_hidden_imports_are_seen(tmp_path, source, expected):
    """The walk sees imports under TYPE_CHECKING, inside functions and relative ones."""
    path = tmp_path / "a.py"
    path.write_text(source)
    assert expected in imports_of(path, "nodeflow.gui.a", {"nodeflow.gui.a", "nodeflow.gui.b"})
