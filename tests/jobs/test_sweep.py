"""Sweep expansion: lists, ranges, @file, product and zip, repeats, and one clear line per bad spec."""

from __future__ import annotations

import pytest

from nodeflow.core import default_registry, files
from nodeflow.core.errors import GraphEditError
from nodeflow.jobs.sweep import SweepError, apply, expand, parse_sweep
from tests.jobs.conftest import TXT2IMG


@pytest.fixture
def graph():
    return files.load(TXT2IMG, default_registry())[0]


def overrides(graph, *options, **kwargs):
    return [job.overrides for job in expand([graph], [parse_sweep(o) for o in options], **kwargs)]


def test_list_range_and_file_values(graph, tmp_path):
    assert tuple(parse_sweep("5.seed=1..4").values) == ("1", "2", "3", "4")
    assert tuple(parse_sweep("5.seed=-2..-1").values) == ("-2", "-1")
    assert parse_sweep("5.sampler_name= euler, ddim").values == ("euler", "ddim")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a red circle, big\n\na blue square\r\n")
    assert parse_sweep(f"2.text=@{prompts}").values == ("a red circle, big", "a blue square")
    assert parse_sweep("2.text=@prompts.txt", base_dir=tmp_path).values == ("a red circle, big", "a blue square")
    assert overrides(graph, "5.seed=7") == [{"5.seed": 7}]


def test_product_varies_the_last_sweep_fastest_and_converts_values(graph):
    jobs = overrides(graph, "5.seed=1..2", "5.cfg=1.5,3")
    assert jobs == [{"5.seed": 1, "5.cfg": 1.5}, {"5.seed": 1, "5.cfg": 3.0},
                    {"5.seed": 2, "5.cfg": 1.5}, {"5.seed": 2, "5.cfg": 3.0}]
    assert isinstance(jobs[1]["5.cfg"], float)


def test_zip_pairs_values(graph):
    assert overrides(graph, "5.seed=1..3", "5.steps=4,5,6", zip_sweeps=True) == [
        {"5.seed": 1, "5.steps": 4}, {"5.seed": 2, "5.steps": 5}, {"5.seed": 3, "5.steps": 6}]
    with pytest.raises(SweepError, match=r"--zip .*\(5.seed has 3, 5.steps has 2\)"):
        overrides(graph, "5.seed=1..3", "5.steps=4,5", zip_sweeps=True)


def test_repeat_advances_seeds_per_point_and_apply_sets_them(graph):
    jobs = overrides(graph, "5.cfg=2,3", repeat=2)
    assert jobs == [{"5.cfg": 2.0}, {"5.cfg": 2.0, "5.seed": 43}, {"5.cfg": 3.0}, {"5.cfg": 3.0, "5.seed": 43}]
    assert overrides(graph, "5.seed=10,20", repeat=2) == [{"5.seed": 10}, {"5.seed": 11}, {"5.seed": 20},
                                                          {"5.seed": 21}]
    assert len(overrides(graph, repeat=3)) == 3
    changed = apply(graph, {"5.seed": 9, "2.text": "a star"})
    assert changed.nodes["5"].params["seed"] == 9 and changed.nodes["2"].params["text"] == "a star"
    assert graph.nodes["5"].params["seed"] == 42  # the snapshot is untouched


@pytest.mark.parametrize(("option", "message"), [
    ("5.seed", "--sweep wants NODE.INPUT=SPEC"),
    ("seed=1,2", "--sweep wants NODE.INPUT=SPEC"),
    ("5.seed=1..x", "--sweep 5.seed=1..x: a range takes integers"),
    ("5.cfg=0.5..2.5", "a range takes integers"),
    ("5.seed=9..3", "the range is empty (9 is above 3)"),
    ("5.seed=1,,2", "empty value in the list"),
    ("5.seed=", "empty value in the list"),
    ("2.text=@/nonexistent/prompts.txt", "cannot read /nonexistent/prompts.txt"),
])
def test_malformed_specs_give_one_line(option, message):
    with pytest.raises(SweepError) as info:
        parse_sweep(option)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(SweepError, match="holds no values"):
        parse_sweep(f"2.text=@{empty}")


@pytest.mark.parametrize(("option", "message"), [
    ("99.seed=1", "node 99: no such node"),
    ("5.colour=1", "node 5 input 'colour': no such input"),
    ("5.steps=2,x", "node 5 input 'steps': expected an integer, got 'x'"),
    ("5.sampler_name=euler,nope", "node 5 input 'sampler_name': 'nope' is not one of"),
    ("5.model=1", "node 5 input 'model': is linked"),
    ("5.cfg=1,1000", "node 5 input 'cfg': 1000 is above the maximum"),
])
def test_values_are_checked_against_the_graph(graph, option, message):
    with pytest.raises(GraphEditError) as info:
        overrides(graph, option)
    assert message in str(info.value)


def test_conflicting_sweeps_are_refused(graph):
    with pytest.raises(SweepError, match="5.seed is swept twice"):
        overrides(graph, "5.seed=1", "5.seed=2")
    with pytest.raises(SweepError, match="also fixed by --set"):
        expand([graph], [parse_sweep("5.seed=1")], fixed=("5.seed",))
    with pytest.raises(SweepError, match="--repeat wants a count of at least 1"):
        overrides(graph, repeat=0)
