"""Registry: duplicates are errors; broken plugins are reported and skipped, never fatal."""

import sys
from importlib.metadata import EntryPoint

import pytest
from spine_nodes import Source

from nodeflow.core import Input, Node, Output, Registry, RegistryError


def test_duplicate_type_id_is_an_error():
    registry = Registry()
    registry.register(Source)

    class Again(Source):
        pass

    with pytest.raises(RegistryError, match="registered twice"):
        registry.register(Again)


def test_bad_declaration_is_refused():
    class NoRun(Node):
        type_id = "bad.norun"
        title = "No run"
        inputs = (Input("x", "INT", default="seven"),)
        outputs = (Output("y", "INT"),)

    with pytest.raises(RegistryError) as info:
        Registry().register(NoRun)
    assert "bad default" in str(info.value) and "run()" in str(info.value)


def test_user_folder_plugins_load_and_broken_ones_are_skipped(tmp_path):
    (tmp_path / "good.py").write_text(
        "from nodeflow.core import Node, Input, Output\n"
        "class Twice(Node):\n"
        "    type_id = 'user.twice'\n    title = 'Twice'\n"
        "    inputs = (Input('x', 'INT', default=1),)\n    outputs = (Output('x', 'INT'),)\n"
        "    def run(self, ctx, x):\n        return (2 * x,)\n")
    (tmp_path / "broken.py").write_text("import does_not_exist\n")
    (tmp_path / "dupe.py").write_text(
        "from nodeflow.core import Node, Output\n"
        "class Dupe(Node):\n    type_id = 'basic.int'\n    title = 'Dupe'\n"
        "    outputs = (Output('x', 'INT'),)\n    def run(self, ctx):\n        return (1,)\n")
    registry = Registry()
    registry.load_entry_points()
    registry.load_folder(tmp_path)
    assert registry.get("user.twice") is not None
    sources = {source.rsplit("/", 1)[-1]: message for source, message in registry.problems}
    assert "does_not_exist" in sources["broken.py"] and "registered twice" in sources["dupe.py"]


def test_entry_point_plugins(monkeypatch, tmp_path):
    (tmp_path / "acme_nodes.py").write_text(
        "from nodeflow.core import Node, Output\n"
        "class Acme(Node):\n    type_id = 'acme.thing'\n    title = 'Acme'\n"
        "    outputs = (Output('x', 'INT'),)\n    def run(self, ctx):\n        return (1,)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [EntryPoint("acme", "acme_nodes", "nodeflow.nodes"),
           EntryPoint("gone", "no_such_module_anywhere", "nodeflow.nodes")]
    monkeypatch.setattr("nodeflow.core.registry.entry_points", lambda group: eps)
    registry = Registry()
    registry.load_entry_points()
    assert registry.get("acme.thing") is not None
    sources = [source for source, _ in registry.problems]
    assert sources == ["nodeflow", "plugin 'gone' (no_such_module_anywhere)"]
    sys.modules.pop("acme_nodes", None)


def test_builtin_nodes_register_through_the_entry_point_group():
    """The core names no node module: NodeFlow's own metadata points the group at `nodes`."""
    from importlib.metadata import entry_points

    own = [ep.value for ep in entry_points(group="nodeflow.nodes") if ep.dist and ep.dist.name == "nodeflow"]
    assert own == ["nodes"]
    registry = Registry()
    registry.load_entry_points()
    assert registry.problems == []
    assert registry.get("basic.reroute") is registry.reroute_type()
    assert {"image.save", "sampling.sampler"} <= {cls.type_id for cls in registry}


def test_one_wording_for_an_unexpected_exception():
    from nodeflow.core.errors import MESSAGE_LIMIT, one_line

    assert one_line(ValueError("bad\n  value")) == "ValueError: bad value"
    assert one_line(RuntimeError()) == "RuntimeError"
    assert one_line(FileNotFoundError(2, "No such file or directory", "/x/y")) == "No such file or directory: /x/y"
    assert len(one_line(ValueError("x" * 10_000))) < MESSAGE_LIMIT + 20
