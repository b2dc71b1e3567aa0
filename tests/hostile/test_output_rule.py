"""Class 2: files written outside --out; output problems found only after sampling."""

from __future__ import annotations

import os
import sys

import pytest
from hostile_sandbox import names
from PIL import Image


def save_text(prefix: str) -> list[dict]:
    return [{"id": "1", "type": "basic.text", "params": {"text": "x"}},
            {"id": "2", "type": "basic.save_text", "params": {"filename_prefix": prefix}}]


@pytest.mark.parametrize("prefix", ["../escape", "/tmp/nodeflow-escape", " ../x", "a/../../x", "..\\x",
                                    "~/x", "C:/x", "a\nb"])
def test_save_text_prefixes_stay_inside(sandbox, prefix):
    wf = sandbox.workflow(save_text(prefix), [("1", "text", "2", "text")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "2", "filename_prefix")
    assert not sandbox.out.exists() and sandbox.written_outside() == []


@pytest.mark.parametrize("prefix", [" ../x", "..", "sub/../../x"])
def test_save_image_prefixes_stay_inside(sandbox, prefix):
    picture = sandbox.root / "work" / "in.png"
    Image.new("RGB", (8, 8), "red").save(picture)
    sandbox.inputs.add(picture)
    wf = sandbox.workflow([{"id": "1", "type": "image.load", "params": {"image": "in.png"}},
                           {"id": "2", "type": "image.save", "params": {"filename_prefix": prefix}}],
                          [("1", "image", "2", "images")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "2", "filename_prefix")
    assert sandbox.written_outside() == []


def test_dot_prefix_writes_inside_not_beside(sandbox):
    wf = sandbox.workflow(save_text("."), [("1", "text", "2", "text")])
    assert sandbox.cli("run", wf)[0] == 0
    assert [p.name for p in sandbox.out.glob("*.txt")] and all(p.name.startswith("nodeflow_")
                                                               for p in sandbox.out.glob("*.txt"))
    assert sandbox.written_outside() == []


def test_out_that_is_a_file_is_refused_before_anything_runs(sandbox):
    sandbox.out = sandbox.file("out", "i am a file")
    wf = sandbox.workflow(save_text("x"), [("1", "text", "2", "text")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "2", "filename_prefix") and "is a file" in err
    assert sandbox.out.read_text() == "i am a file"


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_out_is_refused_before_anything_runs(sandbox):
    sandbox.out.mkdir()
    sandbox.out.chmod(0o500)
    try:
        wf = sandbox.workflow(save_text("x"), [("1", "text", "2", "text")])
        code, err = sandbox.cli("run", wf)
        assert code == 2 and "not writable" in err
    finally:
        sandbox.out.chmod(0o700)


def test_format_text_cannot_reach_python_objects(sandbox):
    template = "{a.__class__.__repr__.__globals__[torch].os.environ}"
    wf = sandbox.workflow([{"id": "1", "type": "basic.int"},
                           {"id": "2", "type": "basic.format_text", "params": {"template": template}},
                           {"id": "3", "type": "basic.save_text"}],
                          [("1", "value", "2", "a"), ("2", "text", "3", "text")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "2", "template") and "attributes" in err
    assert not sandbox.out.exists()


def test_format_text_width_is_bounded(sandbox):
    wf = sandbox.workflow([{"id": "1", "type": "basic.int"},
                           {"id": "2", "type": "basic.format_text", "params": {"template": "{a:>2000000000}"}},
                           {"id": "3", "type": "basic.save_text"}],
                          [("1", "value", "2", "a"), ("2", "text", "3", "text")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "2", "template") and "width" in err
    assert not sandbox.out.exists()


def test_unembeddable_values_are_refused_at_load(sandbox):
    far = sandbox.file("far.json", '{"format": "nodeflow-workflow", "version": 1, "nodes": '
                                   '[{"id": "1", "type": "basic.int", "pos": [1e400, 0]}, '
                                   '{"id": "2", "type": "basic.show"}], "links": [{"from": ["1", "value"], '
                                   '"to": ["2", "value"]}]}')
    code, err = sandbox.cli("run", far)
    assert code == 2 and ("too large" in err or "finite" in err)
    deep = sandbox.file("deep.json", '{"format": "nodeflow-workflow", "version": 1, "nodes": [], "links": [], '
                                     '"metadata": {"x": ' + "[" * 900 + "]" * 900 + "}}")
    code, err = sandbox.cli("run", deep)
    assert code == 2 and "nested" in err and "Traceback" not in err
    assert sandbox.written_outside() == []
