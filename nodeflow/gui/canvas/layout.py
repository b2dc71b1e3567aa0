"""Where things sit inside a node: socket rows, widget rows, the image area. Plain geometry.

Inputs that take links (and parameters that are linked or converted to inputs) are socket rows on
the left, side by side with the outputs on the right; the other parameters are widget rows below.
Reroutes (passthrough nodes with one input and one output) are a dot with a socket on each side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nodeflow.core.graph import NodeRecord
from nodeflow.core.spec import Input, Node

TITLE_H = 26.0
ROW_H = 22.0
WIDGET_H = 22.0
MULTILINE_H = 74.0
GAP = 4.0
PAD = 8.0
MIN_WIDTH = 180.0
DEFAULT_WIDTH = 240.0
SOCKET_R = 5.5
DOT_D = 20.0  # a reroute dot's diameter; its sockets sit on its left and right rim
DOT_SOCKET_HIT = 6.0  # a press nearer the middle of a dot moves it instead of starting a wire


@dataclass
class WidgetRow:
    name: str  # the input (parameter) the row edits
    y: float
    height: float
    input: Input | None  # None for a placeholder node's saved value
    seed_control: bool = False  # the second row of a seed: what happens to it after a run


@dataclass
class NodeLayout:
    width: float
    height: float
    inputs: dict[str, float] = field(default_factory=dict)  # input name -> socket centre y
    outputs: dict[str, float] = field(default_factory=dict)
    input_types: dict[str, str] = field(default_factory=dict)
    output_types: dict[str, str] = field(default_factory=dict)
    widgets: list[WidgetRow] = field(default_factory=list)
    image_top: float | None = None
    collapsed: bool = False
    dot: bool = False

    def widget_at(self, x: float, y: float) -> WidgetRow | None:
        if self.collapsed or not (PAD <= x <= self.width - PAD):
            return None
        return next((w for w in self.widgets if w.y <= y <= w.y + w.height), None)


def is_socket_input(inp: Input, linked: set[str], converted: list[str]) -> bool:
    return not inp.is_parameter or inp.name in linked or inp.name in converted


def is_dot(cls: type[Node] | None) -> bool:
    """Whether nodes of this type are drawn as a reroute dot."""
    return cls is not None and cls.is_reroute()


def compute_layout(cls: type[Node] | None, record: NodeRecord, linked: set[str],
                   image_height: float = 0.0) -> NodeLayout:
    """The layout of `record` (a registered type or, with `cls` None, a placeholder)."""
    if is_dot(cls):
        assert cls is not None
        mid = DOT_D / 2
        inp, out = cls.inputs[0], cls.outputs[0]
        return NodeLayout(DOT_D, DOT_D, {inp.name: mid}, {out.name: mid}, {inp.name: inp.type},
                          {out.name: out.type}, dot=True)
    size = record.ui.get("size")
    width = max(MIN_WIDTH, float(size[0])) if size else DEFAULT_WIDTH
    layout = NodeLayout(width=width, height=TITLE_H, collapsed=bool(record.ui.get("collapsed")))
    converted = list(record.ui.get("widget_inputs", []))
    if cls is not None:
        socket_inputs = [i for i in cls.inputs if is_socket_input(i, linked, converted)]
        widget_inputs = [i for i in cls.inputs if not is_socket_input(i, linked, converted)]
        in_items = [(i.name, i.type) for i in socket_inputs]
        out_items = [(o.name, o.type) for o in cls.outputs]
    else:  # placeholder: show what the file says
        in_items = [(name, "*") for name in sorted(linked)]
        out_items = []
        widget_inputs = []
    if layout.collapsed:
        mid = TITLE_H / 2
        layout.inputs = dict.fromkeys((n for n, _ in in_items), mid)
        layout.outputs = dict.fromkeys((n for n, _ in out_items), mid)
        layout.input_types, layout.output_types = dict(in_items), dict(out_items)
        return layout
    y = TITLE_H + GAP
    for row in range(max(len(in_items), len(out_items))):
        centre = y + ROW_H / 2
        if row < len(in_items):
            layout.inputs[in_items[row][0]] = centre
        if row < len(out_items):
            layout.outputs[out_items[row][0]] = centre
        y += ROW_H
    layout.input_types, layout.output_types = dict(in_items), dict(out_items)
    if in_items or out_items:
        y += GAP
    for inp in widget_inputs:
        height = MULTILINE_H if inp.multiline else WIDGET_H
        layout.widgets.append(WidgetRow(inp.name, y, height, inp))
        y += height + GAP
        if inp.seed:
            layout.widgets.append(WidgetRow(inp.name, y, WIDGET_H, inp, seed_control=True))
            y += WIDGET_H + GAP
    if cls is None:
        for name in sorted(record.params):
            layout.widgets.append(WidgetRow(name, y, WIDGET_H, None))
            y += WIDGET_H + GAP
    if image_height > 0:
        layout.image_top = y
        y += image_height + GAP
    layout.height = max(y + GAP, TITLE_H + 2 * GAP)
    if size and len(size) > 1:
        layout.height = max(layout.height, float(size[1]))
    return layout
