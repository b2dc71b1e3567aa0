"""Format Text's templates: '{a}', '{b:>8}', '{c:.2f}' and nothing that reaches into Python.

`str.format` follows attribute and index lookups, so '{a.__class__.__init__.__globals__}' walks
from any value to the whole process (environment, modules), and '{a:>2000000000}' builds a 2 GB
string. A template here may only name a field ('a', 'b' or 'c'), convert it with '!s' or '!r',
and format it with a standard spec whose width and precision are bounded. The text it produces
is bounded too.
"""

from __future__ import annotations

import re
import string
from typing import Any

from nodeflow.core.types import MAX_TEXT_LENGTH

FIELDS = ("a", "b", "c")
MAX_WIDTH = 1000
MAX_PRECISION = 50
#: [[fill]align][sign][z][#][0][width][grouping][.precision][type] (Python's format mini-language)
_SPEC = re.compile(r"(?:(?P<fill>.)?(?P<align>[<>=^]))?[+\- ]?z?#?0?(?P<width>\d+)?[,_]?"
                   r"(?:\.(?P<precision>\d+))?[bcdeEfFgGnosxX%]?", re.DOTALL)


class TemplateError(ValueError):
    """A template this node refuses; the message says which part and why."""


def parse(template: str) -> list[tuple[str, str | None, str | None, str]]:
    """(literal text, field, conversion, spec) pieces, or TemplateError for anything unsafe."""
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"the template is not well-formed: {exc}") from None
    checked = []
    for literal, field, spec, conversion in pieces:
        if field is None:
            checked.append((literal, None, None, ""))
            continue
        if field == "" or field not in FIELDS:
            shown = field if len(field) <= 40 else field[:40] + "..."
            raise TemplateError(f"'{{{shown}}}' is not allowed: a template names only {{a}}, {{b}} or {{c}} "
                                "(no positional fields, attributes or indexes)")
        if conversion not in (None, "s", "r"):
            raise TemplateError(f"'!{conversion}' is not allowed after {{{field}}} (use !s or !r)")
        spec = spec or ""
        if "{" in spec or "}" in spec:
            raise TemplateError(f"the format of {{{field}}} may not contain other fields")
        match = _SPEC.fullmatch(spec)
        if match is None:
            raise TemplateError(f"'{spec[:40]}' is not a format this node understands (for {{{field}}})")
        if int(match["width"] or 0) > MAX_WIDTH:
            raise TemplateError(f"the width in {{{field}:{spec[:40]}}} is over the maximum of {MAX_WIDTH}")
        if int(match["precision"] or 0) > MAX_PRECISION:
            raise TemplateError(f"the precision in {{{field}:{spec[:40]}}} is over the maximum of {MAX_PRECISION}")
        checked.append((literal, field, conversion, spec))
    return checked


def check(template: str) -> None:
    """Validation hook for the template parameter (`Input.check`): TemplateError if unsafe."""
    parse(template)


def render(template: str, values: dict[str, Any]) -> str:
    """Fill `template` with `values`; TemplateError if a value doesn't take its format or the text
    would exceed MAX_TEXT_LENGTH characters."""
    out: list[str] = []
    size = 0
    for literal, field, conversion, spec in parse(template):
        parts = [literal]
        if field is not None:
            value = values.get(field)
            if conversion == "r":
                value = repr(value)
            elif conversion == "s":
                value = str(value)
            try:
                parts.append(format(value, spec))
            except (ValueError, TypeError) as exc:
                raise TemplateError(f"{{{field}}} ({type(value).__name__}) cannot be formatted as "
                                    f"'{spec}': {exc}") from None
        for part in parts:
            size += len(part)
            if size > MAX_TEXT_LENGTH:
                raise TemplateError(f"the text would be longer than {MAX_TEXT_LENGTH:,} characters")
            out.append(part)
    return "".join(out)
