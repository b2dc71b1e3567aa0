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


def test_an_import_with_placeholders_opens_a_report_window_saying_what_to_do(qtbot, window, tmp_path):
    path = tmp_path / "workflow_api.json"
    path.write_text(json.dumps(PROMPT), encoding="utf-8")
    assert window.files.open(path)
    dialog = window.import_report
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    rows = [[dialog.rows.topLevelItem(r).text(c) for c in range(4)] for r in range(dialog.rows.topLevelItemCount())]
    (placeholder,) = [row for row in rows if row[1] == "MysteryNode"]
    assert placeholder[0] == "3" and "Install the plugin" in placeholder[3]
    dialog.close()


def test_a_clean_import_opens_no_report_window(qtbot, window, tmp_path):
    clean = {k: v for k, v in PROMPT.items() if v["class_type"] != "MysteryNode"}
    path = tmp_path / "clean_api.json"
    path.write_text(json.dumps(clean), encoding="utf-8")
    assert window.files.open(path)
    assert window.import_report is None
