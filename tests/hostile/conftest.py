"""The `sandbox` fixture of the hostile-input suite (see hostile_sandbox.py)."""

from __future__ import annotations

import pytest
from hostile_sandbox import Sandbox

from nodeflow.core import registry as registry_module


@pytest.fixture
def sandbox(tmp_path, monkeypatch, capsys) -> Sandbox:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("NODEFLOW_ALLOW_READ", raising=False)  # the read rule as a user meets it
    monkeypatch.setattr(registry_module, "_default", None)  # pick up this test's plugins
    return Sandbox(tmp_path, work / "out", capsys)
