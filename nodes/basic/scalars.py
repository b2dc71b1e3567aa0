"""Plain value nodes that need no torch: numbers, text, arithmetic, formatting, showing, saving."""

from __future__ import annotations

import math
import operator
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import ANY, BOOLEAN, FLOAT, INT, MAX_TEXT_LENGTH, STRING
from nodes.basic import _template

_OPERATIONS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "floor divide": operator.floordiv,
    "modulo": operator.mod,
    "power": operator.pow,
    "min": min,
    "max": max,
}


class IntValue(Node):
    type_id = "basic.int"
    title = "Integer"
    category = "basic"
    pure = True
    description = "A whole number to feed into other nodes (steps, sizes, seeds)."
    inputs = (Input("value", INT, default=0),)
    outputs = (Output("value", INT),)

    def run(self, ctx: RunContext, value: int) -> tuple[int]:
        return (value,)


class FloatValue(Node):
    type_id = "basic.float"
    title = "Float"
    category = "basic"
    pure = True
    description = "A decimal number to feed into other nodes (cfg, denoise, strengths)."
    inputs = (Input("value", FLOAT, default=0.0, step=0.01),)
    outputs = (Output("value", FLOAT),)

    def run(self, ctx: RunContext, value: float) -> tuple[float]:
        return (value,)


class TextValue(Node):
    type_id = "basic.text"
    title = "Text"
    category = "basic"
    pure = True
    description = "A piece of text, e.g. a prompt shared by several encoders."
    inputs = (Input("text", STRING, default="", multiline=True),)
    outputs = (Output("text", STRING),)

    def run(self, ctx: RunContext, text: str) -> tuple[str]:
        return (text,)


class BooleanValue(Node):
    type_id = "basic.boolean"
    title = "Boolean"
    category = "basic"
    pure = True
    description = "A true/false switch."
    inputs = (Input("value", BOOLEAN, default=False),)
    outputs = (Output("value", BOOLEAN),)

    def run(self, ctx: RunContext, value: bool) -> tuple[bool]:
        return (value,)


class Math(Node):
    type_id = "basic.math"
    title = "Math"
    category = "basic"
    pure = True
    description = "Arithmetic on two numbers. The result is a FLOAT; use Round for an INT."
    inputs = (
        Input("a", FLOAT, default=0.0),
        Input("b", FLOAT, default=0.0),
        Input("operation", STRING, default="add", choices=tuple(_OPERATIONS)),
    )
    outputs = (Output("result", FLOAT),)

    def run(self, ctx: RunContext, a: float, b: float, operation: str) -> tuple[float]:
        try:
            result = float(_OPERATIONS[operation](a, b))
        except (ZeroDivisionError, OverflowError) as exc:
            raise NodeError(f"{operation} of {a:g} and {b:g} failed: {exc}", "b") from None
        if not math.isfinite(result):
            raise NodeError(f"{operation} of {a:g} and {b:g} is not a finite number", "b")
        return (result,)


class Round(Node):
    type_id = "basic.round"
    title = "Round"
    category = "basic"
    pure = True
    description = "Round a FLOAT to the nearest INT (halves go to the even neighbour, as Python does)."
    inputs = (Input("value", FLOAT, default=0.0),)
    outputs = (Output("value", INT),)

    def run(self, ctx: RunContext, value: float) -> tuple[int]:
        return (round(value),)


class FormatText(Node):
    type_id = "basic.format_text"
    title = "Format Text"
    category = "basic"
    pure = True
    description = (
        "Fill a template with values: '{a}', '{b}', '{c}' are replaced, optionally with a format "
        "('{a:.2f}', '{b:>5}', '{c!r}'). Nothing else is looked up: no attributes or indexes, "
        f"widths up to {_template.MAX_WIDTH}, results up to {MAX_TEXT_LENGTH:,} characters. Handy "
        "for prompts and file names built from numbers."
    )
    inputs = (
        Input("template", STRING, default="{a}", multiline=True, check=_template.check),
        Input("a", ANY, optional=True),
        Input("b", ANY, optional=True),
        Input("c", ANY, optional=True),
    )
    outputs = (Output("text", STRING),)

    def run(self, ctx: RunContext, template: str, a: Any, b: Any, c: Any) -> tuple[str]:
        try:
            return (_template.render(template, {"a": a, "b": b, "c": c}),)
        except _template.TemplateError as exc:
            raise NodeError(str(exc), "template") from None


class ShowValue(Node):
    type_id = "basic.show"
    title = "Show Value"
    category = "basic"
    description = "Output node: shows any value in the run log (and the CLI prints it)."
    is_output = True
    inputs = (Input("value", ANY),)
    outputs = (Output("text", STRING),)

    def run(self, ctx: RunContext, value: Any) -> tuple[str]:
        text = str(value)
        ctx.report(f"node {ctx.node_id}: {text}")
        return (text,)


class SaveText(Node):
    type_id = "basic.save_text"
    title = "Save Text"
    category = "basic"
    description = ("Output node: writes text to '<prefix>_<counter>.<format>' in the output folder, never "
                   "overwriting; as json, text that parses as JSON is written indented by 2 spaces.")
    is_output = True
    inputs = (Input("text", STRING, multiline=True),
              Input("filename_prefix", STRING, default="nodeflow", output_prefix=True),
              Input("format", STRING, default="txt", choices=("txt", "csv", "md", "json")))
    outputs = (Output("path", STRING), Output("text", STRING))

    def run(self, ctx: RunContext, text: str, filename_prefix: str, format: str = "txt") -> tuple[str, str]:
        import json

        written = text
        if format == "json":
            try:
                written = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            except (ValueError, RecursionError):
                pass  # not JSON: written as it is
        path = ctx.write_output(filename_prefix, f".{format}", lambda handle: handle.write(written.encode("utf-8")))
        ctx.report(f"saved {path}")
        return str(path), text


class Reroute(Node):
    type_id = "basic.reroute"
    title = "Reroute"
    category = "basic"
    description = "A dot on a wire to tidy the layout; passes its input through unchanged."
    passthrough = True
    inputs = (Input("value", ANY),)
    outputs = (Output("value", ANY),)

    def run(self, ctx: RunContext, value: Any) -> tuple[Any]:
        return (value,)


class Note(Node):
    type_id = "basic.note"
    title = "Note"
    category = "basic"
    description = ("Text on the canvas for whoever reads the workflow (ComfyUI's Note and MarkdownNote "
                   "import as this). It has no sockets and never runs.")
    inputs = (Input("text", STRING, default="", multiline=True),)

    def run(self, ctx: RunContext, text: str) -> tuple[()]:
        return ()
