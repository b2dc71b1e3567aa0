"""Maths written as text, and number conversion (ComfyUI's ComfyMathExpression and ComfyNumberConvert)."""

from __future__ import annotations

import math
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import ANY, BOOLEAN, FLOAT, INT, STRING
from nodes.basic import _expression

#: The letters an expression's values go by, one input each (ComfyUI's values.a, values.b, ...).
VALUE_NAMES = tuple("abcdefgh")


def _number(value: Any, name: str) -> int | float | bool:
    if isinstance(value, (bool, int, float)):
        return value
    raise NodeError(f"expects a number or true/false, got {type(value).__name__}", name)


class MathExpression(Node):
    type_id = "basic.expression"
    title = "Math Expression"
    category = "basic"
    pure = True
    description = (
        "Computes a formula over the values linked to a..h, e.g. 'max(16, floor(a / 16) * 16)': "
        "+ - * / // % **, bitwise & | ^ ~ << >>, comparisons, and/or/not, 'x if c else y', and "
        f"the functions {', '.join(sorted(_expression.FUNCTIONS))}. Nothing else is reachable: no "
        "names beyond the values and pi/e/tau, no attributes, no text. The result comes out as a "
        "FLOAT, an INT (whole part) and a BOOLEAN."
    )
    inputs = (
        Input("expression", STRING, default="a + b", multiline=True, check=_expression.check),
        *(Input(name, ANY, optional=True, help=f"the value '{name}' in the expression") for name in VALUE_NAMES),
    )
    outputs = (Output("float", FLOAT), Output("int", INT), Output("bool", BOOLEAN))

    def run(self, ctx: RunContext, expression: str, **values: Any) -> tuple[float, int, bool]:
        variables = {name: _number(value, name) for name, value in values.items() if value is not None}
        try:
            result = _expression.evaluate(expression, variables)
        except _expression.ExpressionError as exc:
            raise NodeError(str(exc), "expression") from None
        try:
            return float(result), int(result), bool(result)
        except OverflowError:
            raise NodeError("the result is too large for a FLOAT", "expression") from None


class NumberConvert(Node):
    type_id = "basic.number_convert"
    title = "Convert Number"
    category = "basic"
    pure = True
    description = ("A number, true/false or text such as ' 2.5 ' as a FLOAT and an INT (its whole part, "
                   "rounded toward zero). Text that is not a finite number is refused.")
    inputs = (Input("value", ANY),)
    outputs = (Output("float", FLOAT), Output("int", INT))

    def run(self, ctx: RunContext, value: Any) -> tuple[float, int]:
        number: float
        if isinstance(value, (bool, int, float)):
            number = float(value)
            whole = int(value) if not isinstance(value, float) else None
        elif isinstance(value, str) and len(value) <= 100:
            try:
                number = float(value.strip())
            except ValueError:
                raise NodeError(f"'{value.strip()[:40]}' is not a number", "value") from None
            whole = None
        else:
            raise NodeError(f"expects a number, true/false or text, got {type(value).__name__}", "value")
        if not math.isfinite(number):
            raise NodeError("not a finite number", "value")
        return number, whole if whole is not None else int(number)
