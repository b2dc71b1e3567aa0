"""Text nodes: join, replace, regular expressions and JSON look-ups (ComfyUI's string utilities).

All are pure: the planner may run them to decide a switch. Regular expressions run with a time
bound (`_regex`); JSON is parsed only up to the text length every STRING obeys.
"""

from __future__ import annotations

import json
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import BOOLEAN, INT, MAX_TEXT_LENGTH, STRING
from nodes.basic import _regex

EXTRACT_MODES = ("First Match", "All Matches", "First Group", "All Groups")


def _checked_length(text: str, field: str) -> str:
    if len(text) > MAX_TEXT_LENGTH:
        raise NodeError(f"the result would be {len(text):,} characters, more than the {MAX_TEXT_LENGTH:,} "
                        "a text may hold", field)
    return text


class StringConcatenate(Node):
    type_id = "basic.concatenate"
    title = "Concatenate Text"
    category = "basic"
    pure = True
    description = "Joins two texts with a delimiter between them (ComfyUI's StringConcatenate)."
    inputs = (
        Input("string_a", STRING, default="", multiline=True),
        Input("string_b", STRING, default="", multiline=True),
        Input("delimiter", STRING, default=""),
    )
    outputs = (Output("text", STRING),)

    def run(self, ctx: RunContext, string_a: str, string_b: str, delimiter: str) -> tuple[str]:
        return (_checked_length(string_a + delimiter + string_b, "string_b"),)


class StringReplace(Node):
    type_id = "basic.replace"
    title = "Replace Text"
    category = "basic"
    pure = True
    description = "Replaces every occurrence of 'find' in the text by 'replace' (plain text, not a pattern)."
    inputs = (
        Input("string", STRING, default="", multiline=True),
        Input("find", STRING, default="", multiline=True),
        Input("replace", STRING, default="", multiline=True),
    )
    outputs = (Output("text", STRING),)

    def run(self, ctx: RunContext, string: str, find: str, replace: str) -> tuple[str]:
        if not find:
            return (string,)
        grown = string.count(find) * (len(replace) - len(find))
        if len(string) + grown > MAX_TEXT_LENGTH:
            raise NodeError(f"the result would be longer than the {MAX_TEXT_LENGTH:,} characters a text may hold",
                            "replace")
        return (string.replace(find, replace),)


class RegexReplace(Node):
    type_id = "basic.regex_replace"
    title = "Regex Replace"
    category = "basic"
    pure = True
    description = (
        "Replaces what a regular expression (Python syntax) matches; the replacement may name groups "
        r"(\1, \g<name>). count 0 replaces every match. A match is stopped after "
        f"{_regex.TIMEOUT_S:g} s."
    )
    inputs = (
        Input("string", STRING, default="", multiline=True),
        Input("regex_pattern", STRING, default="", multiline=True),
        Input("replace", STRING, default="", multiline=True),
        Input("case_insensitive", BOOLEAN, default=True),
        Input("multiline", BOOLEAN, default=False),
        Input("dotall", BOOLEAN, default=False),
        Input("count", INT, default=0, min=0, max=100, help="how many matches to replace; 0: all"),
    )
    outputs = (Output("text", STRING),)

    def run(self, ctx: RunContext, string: str, regex_pattern: str, replace: str, case_insensitive: bool,
            multiline: bool, dotall: bool, count: int) -> tuple[str]:
        pattern = _regex.compile_pattern(regex_pattern, case_insensitive, multiline, dotall)
        result = _regex.bounded(lambda timeout: pattern.sub(replace, string, count=count, timeout=timeout))
        return (_checked_length(result, "replace"),)


class RegexExtract(Node):
    type_id = "basic.regex_extract"
    title = "Regex Extract"
    category = "basic"
    pure = True
    description = (
        "Takes text out with a regular expression (Python syntax): the first match or all matches (one "
        "a line), or group 'group_index' of the first match or of every match. Nothing found gives ''. "
        f"A match is stopped after {_regex.TIMEOUT_S:g} s."
    )
    inputs = (
        Input("string", STRING, default="", multiline=True),
        Input("regex_pattern", STRING, default="", multiline=True),
        Input("mode", STRING, default="First Match", choices=EXTRACT_MODES),
        Input("case_insensitive", BOOLEAN, default=True),
        Input("multiline", BOOLEAN, default=False),
        Input("dotall", BOOLEAN, default=False),
        Input("group_index", INT, default=1, min=0, max=100),
    )
    outputs = (Output("text", STRING),)

    def run(self, ctx: RunContext, string: str, regex_pattern: str, mode: str, case_insensitive: bool,
            multiline: bool, dotall: bool, group_index: int) -> tuple[str]:
        pattern = _regex.compile_pattern(regex_pattern, case_insensitive, multiline, dotall)
        group = group_index if "Group" in mode else 0
        if mode.startswith("First"):
            found = _regex.bounded(lambda timeout: pattern.search(string, timeout=timeout))
            return (_group(found, group),)
        matches = _regex.bounded(lambda timeout: list(pattern.finditer(string, timeout=timeout)))
        return (_checked_length("\n".join(_group(m, group) for m in matches), "regex_pattern"),)


def _group(match: Any, index: int) -> str:
    """A match's group as text; '' for no match, a group the pattern lacks or one that took no part."""
    if match is None:
        return ""
    try:
        return match.group(index) or ""
    except IndexError:
        return ""


class JsonExtractString(Node):
    type_id = "basic.json_extract"
    title = "JSON Extract"
    category = "basic"
    pure = True
    description = (
        "The value stored under 'key' in a JSON object, as text: a string as it is, anything else "
        "written as JSON. A missing key or text that is not a JSON object gives ''."
    )
    inputs = (
        Input("json_string", STRING, default="", multiline=True),
        Input("key", STRING, default=""),
    )
    outputs = (Output("text", STRING),)

    def run(self, ctx: RunContext, json_string: str, key: str) -> tuple[str]:
        try:
            data = json.loads(json_string)
        except (ValueError, RecursionError):
            return ("",)
        if not isinstance(data, dict) or key not in data:
            return ("",)
        value: Any = data[key]
        return (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False),)
