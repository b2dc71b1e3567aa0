"""A node cannot end the program: sys.exit() or KeyboardInterrupt inside run() is its own failure."""

from __future__ import annotations

import sys

import pytest
from spine_nodes import CALLS, chain, make_registry

from nodeflow.core import Graph, Input, Node, Output
from nodeflow.core.errors import Interrupted
from nodeflow.core.types import INT
from nodeflow.engine import Executor


class Exits(Node):
    type_id = "hostile.exits"
    title = "Exits"
    inputs = (Input("a", INT), Input("how", INT, default=0))
    outputs = (Output("value", INT),)

    def run(self, ctx, a, how):
        raises = (SystemExit(0), KeyboardInterrupt(), GeneratorExit(), Interrupted("SIGTERM"))
        raise raises[how]


@pytest.fixture
def setup():
    registry = make_registry()
    registry.register(Exits)
    CALLS.clear()
    return Graph(registry), Executor(registry, device="cpu")


@pytest.mark.parametrize("how", [0, 1, 2])
def test_exit_in_a_node_fails_that_node_and_independent_branches_finish(setup, how):
    graph, executor = setup
    _, bad, sink = chain(graph, ("test.source", {}), ("hostile.exits", {"how": how}), ("test.sink", {}))
    _, other_sink = chain(graph, ("test.source", {"value": 3}), ("test.sink", {}))
    result = executor.run(graph)
    assert not result.ok and not result.cancelled
    assert set(result.errors) == {bad} and f"node {bad} (Exits)" in result.errors[bad]
    assert sink in result.skipped and other_sink in CALLS
    if how == 0:
        assert "tried to end the program" in result.errors[bad]


def test_a_process_stop_is_not_a_node_failure(setup):
    graph, executor = setup
    chain(graph, ("test.source", {}), ("hostile.exits", {"how": 3}), ("test.sink", {}))
    with pytest.raises(Interrupted):
        executor.run(graph)


def test_plugin_calling_sys_exit_at_import_is_skipped(tmp_path):
    from nodeflow.core import Registry

    folder = tmp_path / "nodes"
    folder.mkdir()
    (folder / "bad.py").write_text("import sys\nsys.exit(0)\n")
    (folder / "good.py").write_text(
        "from nodeflow.core import Node, Output\nfrom nodeflow.core.types import INT\n"
        "class Good(Node):\n    type_id = 'plugin.good'\n    title = 'Good'\n    outputs = (Output('v', INT),)\n"
        "    def run(self, ctx):\n        return (1,)\n"
        "class BadDefault(Node):\n    type_id = 'plugin.bad_default'\n    title = 'Bad'\n"
        "    from nodeflow.core import Input\n    inputs = (Input('x', '*', default=object()),)\n"
        "    def run(self, ctx, x):\n        return ()\n")
    registry = Registry()
    registry.load_folder(folder)
    assert "plugin.good" in registry and "plugin.bad_default" not in registry
    messages = dict(registry.problems)
    assert "sys.exit(0)" in messages[str(folder / "bad.py")]
    assert "not a JSON value" in messages[str(folder / "good.py")]
    sys.modules.pop("nodeflow_user_nodes.bad", None)
