"""Regular expressions a workflow supplies, run with a time bound.

A shared workflow may carry a pattern built to backtrack for hours; the `regex` package stops a
match after `TIMEOUT_S` seconds (its `timeout` argument), and patterns are capped in length, so a
hostile pattern is one clear error naming the field, never a hang.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import regex

from nodeflow.core import NodeError

#: Seconds one search, replace or scan over the text may take.
TIMEOUT_S = 2.0
#: Longest pattern accepted, in characters.
MAX_PATTERN = 10_000

T = TypeVar("T")


def compile_pattern(pattern: str, case_insensitive: bool, multiline: bool, dotall: bool,
                    field: str = "regex_pattern") -> Any:
    """The compiled pattern (Python `re` syntax), or a NodeError naming `field`."""
    if len(pattern) > MAX_PATTERN:
        raise NodeError(f"the pattern is {len(pattern):,} characters long; at most {MAX_PATTERN:,} are allowed",
                        field)
    flags = regex.V0
    flags |= regex.IGNORECASE if case_insensitive else 0
    flags |= regex.MULTILINE if multiline else 0
    flags |= regex.DOTALL if dotall else 0
    try:
        return regex.compile(pattern, flags)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise NodeError(f"not a valid regular expression: {exc}", field) from None


def bounded(work: Callable[[float], T], field: str = "regex_pattern") -> T:
    """Run `work(timeout)`; a match that runs out of time, or a bad replacement, is a NodeError."""
    try:
        return work(TIMEOUT_S)
    except TimeoutError:
        raise NodeError(f"the pattern took longer than {TIMEOUT_S:g} s on this text and was stopped", field) from None
    except (regex.error, IndexError) as exc:
        raise NodeError(f"the replacement is not valid for this pattern: {exc}", "replace") from None
