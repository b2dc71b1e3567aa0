"""A fuzz of value types over every parameter of every node type: each hostile value loads and
validates to a value the node accepts or to problems that each name a node (and the field, when
one field is at fault), in one line without terminal control characters; never an exception."""

from __future__ import annotations

import pytest

from nodeflow.core import WorkflowFormatError, default_registry, workflow
from nodeflow.engine.plan import validate

HOSTILE = [
    10**400, -(10**400), 2**63, -1, 0, 1.5, True, None, [], {}, [1, 2], {"a": 1},
    "", " ", "1e400", "inf", "nan", "-0", "\x1b[2J\x1b]0;x\x07", "\U0001F600" * 199, "x" * 100_000,
    "../../etc/passwd", "/dev/zero", "C:\\x", "a\nb\rc", "nul\x00byte",
]


def every_parameter() -> list[dict]:
    nodes = []
    for number, cls in enumerate(sorted(default_registry(), key=lambda c: c.type_id)):
        names = [inp.name for inp in cls.inputs if inp.is_parameter]
        if names:
            nodes.append({"id": str(number + 1), "type": cls.type_id, "names": names})
    return nodes


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:20])
def test_every_parameter_takes_a_hostile_value_or_names_node_and_field(value, tmp_path):
    layout = every_parameter()
    assert len(layout) > 20
    data = {"format": "nodeflow-workflow", "version": 1, "links": [],
            "nodes": [{"id": n["id"], "type": n["type"], "params": dict.fromkeys(n["names"], value)}
                      for n in layout]}
    try:
        graph, _ = workflow.from_data(data, default_registry())
    except WorkflowFormatError as exc:
        assert exc.problem.node_id is not None and exc.problem.field is not None, str(exc)
        return
    problems = validate(graph, tmp_path, targets=[n["id"] for n in layout], output_dir=tmp_path / "out")
    for problem in problems:
        text = str(problem)
        assert problem.node_id is not None, text
        assert "\x1b" not in text and "\n" not in text and len(text) < 2_000, text[:300]
        assert "internal error" not in text and "Traceback" not in text
