"""Class 1: plugins and nodes cannot end the program."""

from __future__ import annotations

import json

from hostile_sandbox import names

EXITING_NODE = '''
import sys
from nodeflow.core import Input, Node, Output
from nodeflow.core.types import INT

class Quit(Node):
    type_id = "hostile.quit"
    title = "Quit"
    inputs = (Input("value", INT, default=1),)
    outputs = (Output("value", INT),)

    def run(self, ctx, value):
        sys.exit(0)
'''


def test_plugin_exiting_at_import_is_reported_and_skipped(sandbox, caplog):
    sandbox.plugin("bye", "import sys\nsys.exit(0)\n")
    wf = sandbox.workflow([{"id": "1", "type": "basic.int", "params": {"value": 2}},
                           {"id": "2", "type": "basic.show"}], [("1", "value", "2", "value")])
    code, err = sandbox.cli("run", wf)
    assert code == 0 and "bye.py" in caplog.text and "sys.exit(0)" in caplog.text
    code, err = sandbox.cli("validate", wf)
    assert code == 0 and "ok" in sandbox.stdout
    code, err = sandbox.cli("nodes", "--json")
    assert code == 0 and "basic.int" in {n["type"] for n in json.loads(sandbox.stdout)}
    assert "sys.exit" in err
    assert sandbox.written_outside() == []


def test_node_exiting_fails_alone_and_the_independent_branch_finishes(sandbox):
    sandbox.plugin("quit", EXITING_NODE)
    wf = sandbox.workflow(
        [{"id": "1", "type": "hostile.quit"}, {"id": "2", "type": "basic.show"},
         {"id": "3", "type": "basic.text", "params": {"text": "still here"}},
         {"id": "4", "type": "basic.save_text", "params": {"filename_prefix": "branch"}}],
        [("1", "value", "2", "value"), ("3", "text", "4", "text")])
    code, err = sandbox.cli("run", wf)
    assert code == 1
    assert names(err, "1") and "Quit" in err and "end the program" in err and "Traceback" not in err
    assert [p.read_text() for p in sandbox.out.glob("branch_*.txt")] == ["still here"]
    assert sandbox.written_outside() == []


def test_one_bad_declaration_never_hides_the_other_node_types(sandbox):
    sandbox.plugin("odd", '''
from nodeflow.core import Input, Node, Output
class Odd(Node):
    type_id = "hostile.odd"
    title = "Odd"
    inputs = (Input("x", "*", default={1, 2}),)
    def run(self, ctx, x):
        return ()
''')
    code, err = sandbox.cli("nodes", "--json")
    listing = {n["type"] for n in json.loads(sandbox.stdout)}
    assert code == 0 and "basic.int" in listing and "hostile.odd" not in listing
    assert "Odd" in err and "JSON" in err
