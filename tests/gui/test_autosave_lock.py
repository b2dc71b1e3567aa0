"""Crash autosaves are told from live ones by a QLockFile, not by signalling a process id."""

from __future__ import annotations

import subprocess
import sys

from nodeflow.gui.autosave import Autosave


def test_a_live_window_keeps_its_autosave_and_a_dead_one_leaves_it(qapp, tmp_path):
    mine, other = Autosave(tmp_path), Autosave(tmp_path)
    mine.write("{}", None)
    other.write("{}", None)
    assert mine.leftovers() == []  # the other window still runs (holds its lock)
    # a window in another process that dies without clearing its autosave (a crash)
    code = ("import os, sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]);"
            "from nodeflow.gui.autosave import Autosave; a = Autosave(__import__('pathlib').Path(sys.argv[1]));"
            "a.write('{\"crashed\": 1}', None); print(a.file.name, flush=True); os._exit(3)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    crashed = tmp_path / done.stdout.strip()
    assert (tmp_path / crashed.with_suffix(".lock").name).exists()  # the lock file outlived its process
    assert mine.leftovers() == [crashed]
    assert Autosave.read(crashed)[0] == '{"crashed": 1}'
    other.clear()
    assert mine.leftovers() == [crashed]


def test_an_autosave_without_a_lock_file_is_a_leftover(qapp, tmp_path):
    (tmp_path / "autosave-1-1.json").write_text('{"workflow": "{}", "source": null}')
    assert Autosave(tmp_path).leftovers() == [tmp_path / "autosave-1-1.json"]
