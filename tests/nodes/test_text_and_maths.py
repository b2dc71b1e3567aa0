"""Text, regex, JSON, maths and number nodes (ComfyUI's utility vocabulary): values, defaults, bad
and hostile input."""

from __future__ import annotations

import time

import pytest

from nodeflow.core import NodeError, RunContext, default_registry
from nodes.basic import _expression
from nodes.basic.expression import MathExpression, NumberConvert
from nodes.basic.text import JsonExtractString, RegexExtract, RegexReplace, StringConcatenate, StringReplace
from nodes.image.sizes import ResolutionSelector

CTX = RunContext()


def run(cls, **values):
    """Run a node with its declared defaults for whatever `values` leaves out."""
    params = cls.default_params() | {i.name: None for i in cls.inputs if not i.is_parameter} | values
    return cls().run(CTX, **params)


def test_concatenate_and_replace():
    assert run(StringConcatenate, string_a="a red", string_b="circle", delimiter=" ") == ("a red circle",)
    assert run(StringConcatenate) == ("",)
    assert run(StringReplace, string="w={width}", find="{width}", replace="64") == ("w=64",)
    assert run(StringReplace, string="abc", find="", replace="x") == ("abc",)


def test_a_replace_that_would_grow_past_the_text_limit_is_refused():
    with pytest.raises(NodeError) as info:
        run(StringReplace, string="a" * 1000, find="a", replace="b" * 2000)
    assert info.value.field == "replace"


def test_regex_replace_flags_count_and_groups():
    assert run(RegexReplace, string="Cat cat", regex_pattern="cat", replace="dog") == ("dog dog",)  # ignores case
    assert run(RegexReplace, string="Cat cat", regex_pattern="cat", replace="dog",
               case_insensitive=False) == ("Cat dog",)
    assert run(RegexReplace, string="a1 b2", regex_pattern=r"(\w)(\d)", replace=r"\2\1", count=1) == ("1a b2",)
    fenced = "```json\n{}\n```"
    assert run(RegexReplace, string=fenced, regex_pattern=r"^```(?:json)?\s*\n?", replace="") == ("{}\n```",)


def test_regex_extract_modes():
    text = "size 64x32, size 16x8"
    pattern = r"(\d+)x(\d+)"
    assert run(RegexExtract, string=text, regex_pattern=pattern) == ("64x32",)
    assert run(RegexExtract, string=text, regex_pattern=pattern, mode="All Matches") == ("64x32\n16x8",)
    assert run(RegexExtract, string=text, regex_pattern=pattern, mode="First Group", group_index=2) == ("32",)
    assert run(RegexExtract, string=text, regex_pattern=pattern, mode="All Groups") == ("64\n16",)
    assert run(RegexExtract, string=text, regex_pattern="nothing") == ("",)
    assert run(RegexExtract, string=text, regex_pattern=pattern, mode="First Group", group_index=9) == ("",)


def test_a_bad_or_huge_pattern_is_one_error_naming_the_field():
    with pytest.raises(NodeError) as info:
        run(RegexExtract, string="x", regex_pattern="(unclosed")
    assert info.value.field == "regex_pattern" and "not a valid regular expression" in str(info.value)
    with pytest.raises(NodeError):
        run(RegexExtract, string="x", regex_pattern="a" * 20_000)


def test_a_catastrophic_pattern_stops_within_the_time_bound(monkeypatch):
    from nodes.basic import _regex

    monkeypatch.setattr(_regex, "TIMEOUT_S", 0.2)
    started = time.perf_counter()
    with pytest.raises(NodeError) as info:  # nested quantifiers with a backreference: exponential backtracking
        run(RegexReplace, string="a" * 5000 + "!", regex_pattern=r"^((a|aa)+?)+\1+$", replace="")
    assert "longer than" in str(info.value) and time.perf_counter() - started < 5


def test_json_extract():
    doc = '{"Default": {"num_steps": 20}, "name": "turbo", "steps": 8}'
    assert run(JsonExtractString, json_string=doc, key="name") == ("turbo",)
    assert run(JsonExtractString, json_string=doc, key="steps") == ("8",)
    assert run(JsonExtractString, json_string=doc, key="Default") == ('{"num_steps": 20}',)
    assert run(JsonExtractString, json_string=doc, key="missing") == ("",)
    assert run(JsonExtractString, json_string="not json", key="a") == ("",)
    assert run(JsonExtractString, json_string="[" * 100_000, key="a") == ("",)  # deep nesting: bounded, no crash


@pytest.mark.parametrize(("expression", "values", "expected"), [
    ("a", {"a": 3}, (3.0, 3, True)),
    ("a/2", {"a": 3}, (1.5, 1, True)),
    ("max(5, round(a * 24)) + (5 - (max(5, round(a * 24)) % 17)) % 17", {"a": 5}, (124.0, 124, True)),
    ("max(((a + 15) // 16) * 16, 256)", {"a": 300}, (304.0, 304, True)),
    ("a & ~1", {"a": 7}, (6.0, 6, True)),
    ("a & -8", {"a": 21}, (16.0, 16, True)),
    ("a > 2048", {"a": 1024}, (0.0, 0, False)),
    ("ceil(1.5 * log2(max(a, b))) + 2", {"a": 4, "b": 16}, (8.0, 8, True)),
    ("a % b if b > 0 else 0", {"a": 7, "b": 0}, (0.0, 0, False)),
    ("(a % 4 == 1) and ((b - 1) % 4 == 0)", {"a": 5, "b": 9}, (1.0, 1, True)),
    ("a + b", {"a": True, "b": 2.5}, (3.5, 3, True)),
])
def test_math_expression_values(expression, values, expected):
    assert run(MathExpression, expression=expression, **values) == expected


@pytest.mark.parametrize("expression", [
    "__import__('os').system('true')", "a.__class__", "(lambda: 1)()", "[c for c in 'x']", "'x' * 3",
    "9 ** 9 ** 9", "1 << 100000", "a ** 100000", "open('x')", "exp(1000)", "1 / 0", "unknown + 1",
    "a[0]", "-" * 3000 + "a", "",
])
def test_hostile_or_bad_expressions_are_one_clear_error(expression):
    started = time.perf_counter()
    with pytest.raises(NodeError) as info:
        run(MathExpression, expression=expression, a=10)
    assert info.value.field == "expression" and "\n" not in str(info.value)
    assert time.perf_counter() - started < 1


def test_an_expression_is_checked_before_the_run():
    inp = MathExpression.input("expression")
    with pytest.raises(ValueError):
        inp.check_value("a.__class__")
    assert inp.check_value("a + b") == "a + b"
    assert _expression.FUNCTIONS["floor"](2.5) == 2


def test_a_value_that_is_not_a_number_names_its_letter():
    with pytest.raises(NodeError) as info:
        run(MathExpression, expression="a + b", a=1, b="two")
    assert info.value.field == "b"


def test_number_convert():
    assert run(NumberConvert, value=" 2.7 ") == (2.7, 2)
    assert run(NumberConvert, value=-2.7) == (-2.7, -2)
    assert run(NumberConvert, value=True) == (1.0, 1)
    assert run(NumberConvert, value=7) == (7.0, 7)
    for bad in ("seven", "nan", "inf", None):
        with pytest.raises(NodeError):
            run(NumberConvert, value=bad)


@pytest.mark.parametrize(("ratio", "megapixels", "multiple", "expected"), [
    ("1:1 (Square)", 1.0, 8, (1024, 1024)),
    ("16:9 (Widescreen)", 1.0, 8, (1368, 768)),
    ("9:16 (Portrait Widescreen)", 1.0, 16, (768, 1360)),
    ("16:9 (Widescreen)", 0.4, 32, (864, 480)),
])
def test_resolution_selector(ratio, megapixels, multiple, expected):
    assert run(ResolutionSelector, aspect_ratio=ratio, megapixels=megapixels, multiple=multiple) == expected


def test_the_new_nodes_are_registered_pure_and_declared_well():
    registry = default_registry()
    for type_id in ("basic.concatenate", "basic.replace", "basic.regex_replace", "basic.regex_extract",
                    "basic.json_extract", "basic.expression", "basic.number_convert", "image.resolution_selector",
                    "basic.switch"):
        cls = registry.get(type_id)
        assert cls is not None, type_id
        assert cls.pure != (type_id == "basic.switch"), type_id


def test_a_hostile_expression_in_a_shared_workflow_is_one_problem_before_anything_runs():
    from nodeflow.core import workflow
    from nodeflow.engine import Executor

    data = {"format": "nodeflow-workflow", "version": 1,
            "nodes": [{"id": "1", "type": "basic.int", "params": {"value": 1}},
                      {"id": "2", "type": "basic.expression", "params": {"expression": "a.__class__.__subclasses__()"}},
                      {"id": "3", "type": "basic.show"}],
            "links": [{"from": ["1", "value"], "to": ["2", "a"]}, {"from": ["2", "int"], "to": ["3", "value"]}]}
    graph, _ = workflow.from_data(data, default_registry())
    problems = Executor(device="cpu").validate(graph)
    assert [(p.node_id, p.field) for p in problems] == [("2", "expression")]
    assert "not allowed" in str(problems[0]) and "\n" not in str(problems[0])
