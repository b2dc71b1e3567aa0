"""The reason shown for a re-run names what really changed, and a new node is 'not run before'."""

from __future__ import annotations

from nodeflow.engine.cache import make_signature


def sig(type_id="basic.add", version=1, mode="normal", params=None, cacheable=True):
    return make_signature(type_id, version, mode, params or {"a": 1}, {}, cacheable)


def test_reasons():
    assert sig().changes_since(None) == "not run before"
    assert sig(type_id="basic.multiply").changes_since(sig()) == "not run before"
    assert sig(version=2).changes_since(sig()) == "node version changed (1 -> 2)"
    assert sig(mode="bypassed").changes_since(sig()) == "mode changed (normal -> bypassed)"
    assert sig(params={"a": 2}).changes_since(sig()) == "parameter 'a' changed"
    assert sig(cacheable=False).changes_since(sig(cacheable=False)) == "not cacheable"
