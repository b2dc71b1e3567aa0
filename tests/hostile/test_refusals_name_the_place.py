"""Class 8 and 9 of the second probe: every refusal names the node and the field, in one short
line a terminal shows as text (ids are shortened and their control characters escaped)."""

from __future__ import annotations

import json

import pytest
from hostile_sandbox import names


def float_to_show(sandbox, value_json: str, node_id: str = "1"):
    text = ('{"format": "nodeflow-workflow", "version": 1, "nodes": ['
            f'{{"id": {json.dumps(node_id)}, "type": "basic.float", "params": {{"value": {value_json}}}}},'
            '{"id": "2", "type": "basic.show"}],'
            f'"links": [{{"from": [{json.dumps(node_id)}, "value"], "to": ["2", "value"]}}]}}')
    return sandbox.file("wf.json", text)


@pytest.mark.parametrize("number", ["1" + "0" * 400, "1e400", "-1e400"])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_number_too_large_for_a_float_names_node_and_field(sandbox, number, command):
    code, err = sandbox.cli(command, float_to_show(sandbox, number))
    assert code == 2, err
    assert names(err, "1", "value"), err
    assert "internal error" not in err and "OverflowError" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_prefix_too_long_in_bytes_is_refused_at_validation(sandbox):
    wf = sandbox.workflow([{"id": "1", "type": "basic.text", "params": {"text": "x"}},
                           {"id": "2", "type": "basic.save_text", "params": {"filename_prefix": "\U0001F600" * 199}}],
                          [("1", "text", "2", "text")])
    code, err = sandbox.cli("validate", wf)
    assert code == 2 and names(err, "2", "filename_prefix") and "bytes" in err
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "2", "filename_prefix")
    assert sandbox.written_outside() == []


def test_a_huge_hostile_node_id_is_shortened_and_escaped(sandbox):
    hostile = "\x1b[2J\x1b]0;pwned\x07" + "line\n" * 2000
    code, err = sandbox.cli("validate", float_to_show(sandbox, "1e400", hostile))
    assert code == 2
    assert "\x1b" not in err and "\x07" not in err
    line = err.strip().splitlines()
    assert len(line) == 1 and len(line[0]) < 600, line[0][:200]
    assert "\\x1b" in line[0] and "finite" in line[0]


def test_repeated_notes_are_counted_and_hostile_types_escaped(sandbox):
    nodes = [{"id": str(i), "type": f"evil\x1b[31m.type{i}"} for i in range(2000)]
    nodes.append({"id": "t", "type": "basic.text", "params": {"text": "x"}})
    nodes.append({"id": "s", "type": "basic.save_text"})
    wf = sandbox.workflow(nodes, [("t", "text", "s", "text")])
    code, err = sandbox.cli("validate", wf)
    assert "\x1b" not in err and "\\x1b" in err
    notes = [line for line in err.splitlines() if ": note: " in line]
    assert 1 < len(notes) <= 10 and "1,997 more" in err


def test_convert_into_a_folder_names_the_folder(sandbox):
    wf = sandbox.workflow([{"id": "1", "type": "basic.text", "params": {"text": "x"}}])
    folder = sandbox.root / "work" / "target"
    folder.mkdir()
    code, err = sandbox.cli("convert", wf, folder)
    assert code == 2 and str(folder) in err and "folder" in err
    assert "Errno" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("damage", [b"this is not a database" * 100, b""])
def test_a_damaged_queue_names_its_file(sandbox, damage):
    from nodeflow.jobs.store import default_path

    default_path().parent.mkdir(parents=True, exist_ok=True)
    default_path().write_bytes(damage or b"SQLite format 3\0" + b"\xff" * 200)
    wf = sandbox.workflow([{"id": "1", "type": "basic.text", "params": {"text": "x"}},
                           {"id": "2", "type": "basic.save_text", "params": {"filename_prefix": "t"}}],
                          [("1", "text", "2", "text")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and str(default_path()) in err and "move it aside" in err
    assert len(err.strip().splitlines()) == 1
