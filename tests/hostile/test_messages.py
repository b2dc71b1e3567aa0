"""Class 8: internal errors instead of messages; one bad file hides the rest; BOM; odd numbers."""

from __future__ import annotations

import json
import os

from hostile_sandbox import names

SHOW_INT = [{"id": "1", "type": "basic.int", "params": {"value": 2}}, {"id": "2", "type": "basic.show"}]


def test_non_ascii_digit_node_ids_work(sandbox):
    wf = sandbox.workflow([{"id": "²", "type": "basic.int", "params": {"value": 2}},
                           {"id": "٣", "type": "basic.show"}, {"id": "10", "type": "basic.int"}],
                          [("²", "value", "٣", "value")])
    code, err = sandbox.cli("run", wf)
    assert code == 0 and "Traceback" not in err and "node ٣: 2" in sandbox.stdout + err


def test_validate_checks_every_file_it_is_given(sandbox):
    broken = sandbox.file("a.json", "{broken")
    weird = sandbox.workflow([{"id": "1", "type": "basic.int", "params": {"valeu": 2}}, SHOW_INT[1]],
                             [("1", "value", "2", "value")], name="b.json")
    good = sandbox.workflow(SHOW_INT, [("1", "value", "2", "value")], name="c.json")
    code, err = sandbox.cli("validate", broken, weird, good)
    assert code == 2
    assert f"{broken}: error: not valid JSON" in err
    assert f"{weird}: error: node 1 input 'valeu'" in err
    assert f"{good}: ok" in sandbox.stdout


def test_a_byte_order_mark_is_accepted(sandbox):
    text = json.dumps({"format": "nodeflow-workflow", "version": 1, "nodes": SHOW_INT,
                       "links": [{"from": ["1", "value"], "to": ["2", "value"]}]})
    wf = sandbox.file("bom.json", b"\xef\xbb\xbf" + text.encode())
    assert sandbox.cli("run", wf)[0] == 0


def test_random_bytes_are_not_called_a_dangerous_pickle(sandbox):
    sandbox.file("noise.ckpt", os.urandom(4096).replace(b"\x80", b"\x00"))
    wf = sandbox.workflow([{"id": "1", "type": "models.load_checkpoint", "params": {"checkpoint": "noise.ckpt"}},
                           {"id": "2", "type": "basic.show"}], [("1", "model", "2", "value")])
    code, err = sandbox.cli("run", wf)
    assert code == 1 and names(err, "1") and "'checkpoint'" in err
    assert "not a checkpoint" in err and "code" not in err


def test_the_seed_maximum_prints_as_an_integer(sandbox):
    wf = sandbox.workflow([{"id": "1", "type": "noise.random", "params": {"seed": 2**64}},
                           {"id": "2", "type": "basic.show"}], [("1", "noise", "2", "value")])
    code, err = sandbox.cli("validate", wf)
    assert code == 2 and names(err, "1", "seed") and "maximum 18446744073709551615" in err
    assert "e+19" not in err


def test_every_message_is_a_readable_line(sandbox):
    wf = sandbox.workflow([{"id": "1", "type": "basic.int", "params": {"value": "x" * 5000}}, SHOW_INT[1]],
                          [("1", "value", "2", "value")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "1", "value")
    assert all(len(line) < 300 for line in err.splitlines())
