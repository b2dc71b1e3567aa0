"""`nodeflow FILE.json` opens the file in the editor, as `nodeflow gui FILE.json` does (it was
refused as an unknown command)."""

from __future__ import annotations

import pytest

from nodeflow import cli


@pytest.mark.parametrize("name", ["wf.json", "picture.PNG", "anim.webp"])
def test_a_lone_workflow_file_opens_the_editor_with_it(monkeypatch, tmp_path, name):
    import nodeflow.gui.app as app

    opened = []
    monkeypatch.setattr(app, "main", lambda path=None: opened.append(path) or 0)
    path = tmp_path / name
    assert cli.main([str(path)]) == 0
    assert opened == [str(path)]


def test_other_words_stay_errors(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["frobnicate"])
    assert info.value.code == 2
