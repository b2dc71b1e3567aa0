"""Class 10 of the second probe: a plugin that raises KeyboardInterrupt or calls os._exit while it
is imported is reported and skipped, and one that takes long to import is named on stderr."""

from __future__ import annotations

import pytest

from nodeflow.core import registry as registry_module


def run_with_plugin(sandbox, name: str, source: str):
    sandbox.plugin(name, source)
    wf = sandbox.workflow([{"id": "1", "type": "basic.int", "params": {"value": 2}},
                           {"id": "2", "type": "basic.show"}], [("1", "value", "2", "value")])
    return sandbox.cli("validate", wf)


@pytest.mark.parametrize(("source", "said"), [
    ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("import os\nos._exit(7)\n", "os._exit(7)"),
])
def test_a_plugin_ending_the_import_is_reported_and_skipped(sandbox, caplog, source, said):
    code, err = run_with_plugin(sandbox, "rude", source)
    assert code == 0 and "ok" in sandbox.stdout
    assert "rude.py" in caplog.text and said in caplog.text and "Traceback" not in err


def test_a_slow_plugin_is_named_while_it_loads(sandbox, monkeypatch):
    monkeypatch.setattr(registry_module, "SLOW_IMPORT_S", 0.2)
    code, err = run_with_plugin(sandbox, "sleepy", "import time\ntime.sleep(1.0)\n")
    assert code == 0
    assert "still importing" in err and "sleepy.py" in err
