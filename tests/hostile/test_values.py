"""Class 5: NaN and infinities slip past min/max; misspelled parameters are ignored silently."""

from __future__ import annotations

import pytest
from hostile_sandbox import names

SHOW_FLOAT = [{"id": "1", "type": "basic.float", "params": {"value": 1.0}}, {"id": "2", "type": "basic.show"}]


@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "-Infinity", "1e400"])
def test_non_finite_numbers_in_the_file_are_refused(sandbox, value):
    nodes = [dict(SHOW_FLOAT[0], params={"value": value}), SHOW_FLOAT[1]]
    wf = sandbox.workflow(nodes, [("1", "value", "2", "value")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "1", "value") and "finite" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
def test_non_finite_numbers_from_set_are_refused(sandbox, value):
    wf = sandbox.workflow(SHOW_FLOAT, [("1", "value", "2", "value")])
    code, err = sandbox.cli("run", wf, "--set", f"1.value={value}")
    assert code == 2 and names(err, "1", "value") and "finite" in err


def test_nan_cfg_for_the_sampler_is_refused(sandbox):
    wf = sandbox.workflow([{"id": "5", "type": "sampling.sampler", "params": {"cfg": "NaN"}},
                           {"id": "6", "type": "basic.show"}], [("5", "latent", "6", "value")])
    code, err = sandbox.cli("validate", wf)
    assert code == 2 and names(err, "5", "cfg") and "finite" in err


def test_misspelled_parameter_is_named_and_kept(sandbox):
    wf = sandbox.workflow([{"id": "5", "type": "sampling.sampler", "params": {"stpes": 30}},
                           {"id": "6", "type": "basic.show"}], [("5", "latent", "6", "value")])
    code, err = sandbox.cli("validate", wf)
    assert code == 2 and names(err, "5", "stpes") and "did you mean 'steps'" in err
    assert '"stpes": 30' in wf.read_text()  # the file is never rewritten


def test_a_value_for_a_link_only_input_is_named(sandbox):
    wf = sandbox.workflow([{"id": "1", "type": "basic.int"},
                           {"id": "2", "type": "basic.show", "params": {"value": 3}}],
                          [("1", "value", "2", "value")])
    code, err = sandbox.cli("validate", wf)
    assert code == 2 and names(err, "2", "value") and "takes a link, not a value" in err
