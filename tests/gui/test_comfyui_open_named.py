"""An opened ComfyUI file names the window and the Save As suggestion after itself, and its
problems are marked on the nodes at once, before any Run."""

from __future__ import annotations

import json

from .test_comfyui_open import PROMPT


def test_an_imported_file_names_the_document_and_marks_problems_at_once(window, tmp_path):
    path = tmp_path / "workflow_api.json"
    path.write_text(json.dumps(PROMPT), encoding="utf-8")
    assert window.files.open(path)
    assert window.windowTitle().startswith("workflow_api.json (imported)")
    placeholder = window.scene.nodes["3"]  # MysteryNode: NodeFlow cannot run it
    assert placeholder.run.state == "invalid" and placeholder.run.problems
    assert "problem(s) marked on the nodes" in window.statusBar().currentMessage()


def test_saving_an_import_suggests_a_new_file_beside_the_source(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    path = tmp_path / "workflow_api.json"
    path.write_text(json.dumps(PROMPT), encoding="utf-8")
    assert window.files.open(path)
    offered = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (offered.append(args[2]) or "", ""))
    assert window.files.ask_save_path() == ""
    assert offered == [str(tmp_path / "workflow_api.nodeflow.json")]
    target = tmp_path / "mine.json"
    window.files.ask_save_path = lambda: str(target)
    assert window.files.save()
    assert window.windowTitle().startswith("mine.json") and json.loads(path.read_text()) == PROMPT
