"""Test-wide set-up: offscreen Qt, quiet diffusers, a private NodeFlow user folder, and pytest's
temporary folders allowed to be read (tests build graphs in memory that name files there; the
hostile suite's sandbox takes this away again, to test the read rule as a user meets it)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_user_dir(tmp_path_factory, monkeypatch):
    """Keep settings, autosave and plugin folders of every test out of the real user folder."""
    monkeypatch.setenv("NODEFLOW_HOME", str(tmp_path_factory.mktemp("nodeflow_home")))
    monkeypatch.setenv("NODEFLOW_ALLOW_READ", str(tmp_path_factory.getbasetemp()))
