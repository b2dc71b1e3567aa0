"""A safe evaluator for the arithmetic a workflow writes as text (ComfyUI's math expressions).

No `eval`: the text is parsed with `ast` and walked, and only the node kinds listed here are
accepted: numbers, the variables given, + - * / // % **, bitwise & | ^ ~ << >>, comparisons,
and/or/not, `x if c else y`, and calls of the functions in `FUNCTIONS` by name. No attribute,
subscript, string, lambda or comprehension exists for it, so an expression reaches nothing but
numbers. Bounds keep hostile text cheap: `MAX_LENGTH` characters, `MAX_NODES` syntax nodes,
integers up to `MAX_INT_BITS` bits (a power or shift that would pass it is refused before it is
computed), floats finite.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

MAX_LENGTH = 2_000
MAX_NODES = 500
MAX_INT_BITS = 4_096

Number = int | float | bool


class ExpressionError(ValueError):
    """The expression is not allowed, not valid, or its value is out of bounds."""


def _floor(x: Number) -> int:
    return math.floor(x)


def _ceil(x: Number) -> int:
    return math.ceil(x)


def _round(x: Number, digits: int | None = None) -> Number:
    return round(x) if digits is None else round(x, digits)


def _log(x: Number, base: Number | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


FUNCTIONS: Mapping[str, Callable[..., Number]] = {
    "abs": abs, "min": min, "max": max, "round": _round, "floor": _floor, "ceil": _ceil,
    "int": int, "float": float, "bool": bool, "sqrt": math.sqrt, "exp": math.exp, "log": _log,
    "log2": math.log2, "log10": math.log10, "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "asin": math.asin, "acos": math.acos, "atan": math.atan, "atan2": math.atan2,
    "hypot": math.hypot, "trunc": math.trunc, "sign": lambda x: (x > 0) - (x < 0),
    "clamp": lambda x, low, high: max(low, min(high, x)),
}
CONSTANTS: Mapping[str, Number] = {"pi": math.pi, "e": math.e, "tau": math.tau, "True": True, "False": False}

_BINARY: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}
_UNARY: Mapping[type, Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_, ast.Invert: operator.invert,
}
_COMPARE: Mapping[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}


def parse(text: str) -> ast.Expression:
    """The checked syntax tree of `text`, or ExpressionError saying what is not allowed."""
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text):,} characters long; at most {MAX_LENGTH:,} are allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"not a valid expression: {getattr(exc, 'msg', exc)}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionError(f"the expression has {count} parts; at most {MAX_NODES} are allowed")
    return tree


_ALLOWED = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.And,
            ast.Or, ast.Compare, ast.IfExp, ast.Call, *_BINARY, *_UNARY, *_COMPARE)


def check(text: str) -> None:
    """Raise ExpressionError if `text` is not an allowed expression, without evaluating it (for
    validation: what `evaluate` would refuse for its form, not for its values)."""
    for node in ast.walk(parse(text)):
        if not isinstance(node, _ALLOWED) or (isinstance(node, ast.Call) and (
                not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords)):
            raise ExpressionError(f"'{ast.unparse(node)[:40]}' is not allowed in an expression")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only numbers may appear, not {node.value!r:.40}")


def evaluate(text: str, variables: Mapping[str, Number]) -> Number:
    """The value of the expression `text` with `variables`, or ExpressionError."""
    tree = parse(text)
    try:
        return _checked(_eval(tree.body, variables))
    except ExpressionError:
        raise
    except ZeroDivisionError:
        raise ExpressionError("division by zero") from None
    except OverflowError:
        raise ExpressionError("a value in it is too large") from None
    except (ValueError, TypeError) as exc:
        raise ExpressionError(str(exc)) from None
    except RecursionError:
        raise ExpressionError("the expression nests too deeply") from None


def _eval(node: ast.AST, variables: Mapping[str, Number]) -> Number:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (int, float)):  # bool is an int
            return node.value
        raise ExpressionError(f"only numbers may appear, not {node.value!r:.40}")
    if isinstance(node, ast.Name):
        if node.id in variables:
            return variables[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        known = ", ".join(sorted(variables)) or "none"
        raise ExpressionError(f"unknown name '{node.id}' (the values are {known})")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, variables), _eval(node.right, variables)
        _refuse_huge(node.op, left, right)
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand, variables)))
    if isinstance(node, ast.BoolOp):
        value: Number = _eval(node.values[0], variables)
        for item in node.values[1:]:
            if (isinstance(node.op, ast.And) and not value) or (isinstance(node.op, ast.Or) and value):
                return value
            value = _eval(item, variables)
        return value
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left, variables)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, variables)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, variables) else node.orelse, variables)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        function = FUNCTIONS.get(node.func.id)
        if function is None:
            raise ExpressionError(f"unknown function '{node.func.id}' (known: {', '.join(sorted(FUNCTIONS))})")
        args = [_eval(arg, variables) for arg in node.args]
        return _checked(function(*args))
    raise ExpressionError(f"'{ast.unparse(node)[:40]}' is not allowed in an expression")


def _refuse_huge(op: ast.operator, left: Number, right: Number) -> None:
    """A power or left shift whose integer result would pass the bound, refused before computing it."""
    if isinstance(op, ast.Pow) and isinstance(left, int) and isinstance(right, int) and right > 0:
        if abs(left) > 1 and right * max(abs(left).bit_length(), 1) > MAX_INT_BITS:
            raise ExpressionError(f"{left} ** {right} is too large")
    if isinstance(op, ast.Pow) and isinstance(right, int) and abs(right) > MAX_INT_BITS:
        raise ExpressionError(f"the exponent {right} is too large")
    if isinstance(op, ast.LShift) and isinstance(right, int) and right > MAX_INT_BITS:
        raise ExpressionError(f"shifting by {right} bits is too large")


def _checked(value: Any) -> Number:
    if isinstance(value, complex) or not isinstance(value, (int, float)):
        raise ExpressionError(f"the result {value!r:.40} is not a real number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionError("the result is not a finite number")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError(f"an integer of more than {MAX_INT_BITS} bits is too large")
    return value
