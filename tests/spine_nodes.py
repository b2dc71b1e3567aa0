"""Torch-free test nodes and builders shared by the core, engine and CLI tests."""

from __future__ import annotations

import threading
import time

from nodeflow.core import Graph, Input, Node, NodeError, Output, Registry
from nodeflow.core.types import ANY, FLOAT, INT, STRING

CALLS: list[str] = []  # node ids in the order test nodes ran


class Source(Node):
    type_id = "test.source"
    title = "Source"
    inputs = (Input("value", INT, default=1),)
    outputs = (Output("value", INT),)

    def run(self, ctx, value):
        CALLS.append(ctx.node_id)
        return (value,)


class Add(Node):
    type_id = "test.add"
    title = "Add"
    inputs = (Input("a", INT), Input("b", INT, default=0))
    outputs = (Output("sum", INT),)

    def run(self, ctx, a, b):
        CALLS.append(ctx.node_id)
        return {"sum": a + b}


class Fail(Node):
    type_id = "test.fail"
    title = "Fail"
    inputs = (Input("a", INT),)
    outputs = (Output("value", INT),)

    def run(self, ctx, a):
        CALLS.append(ctx.node_id)
        raise NodeError("broke on purpose", "a")


class Slow(Node):
    """Runs up to `steps` steps of 10 ms, reporting progress (which honours cancel)."""

    type_id = "test.slow"
    title = "Slow"
    started = threading.Event()
    inputs = (Input("a", INT), Input("steps", INT, default=1000))
    outputs = (Output("value", INT),)

    def run(self, ctx, a, steps):
        CALLS.append(ctx.node_id)
        Slow.started.set()
        for step in range(steps):
            time.sleep(0.01)
            ctx.progress(step + 1, steps)
        return (a,)


class Sink(Node):
    type_id = "test.sink"
    title = "Sink"
    is_output = True
    inputs = (Input("value", ANY), Input("label", STRING, default=""))
    outputs = ()

    def run(self, ctx, value, label):
        CALLS.append(ctx.node_id)


class Scale(Node):
    type_id = "test.scale"
    title = "Scale"
    inputs = (Input("x", FLOAT), Input("factor", FLOAT, default=2.0, min=0.0, max=10.0))
    outputs = (Output("x", FLOAT),)

    def run(self, ctx, x, factor):
        CALLS.append(ctx.node_id)
        return (x * factor,)


class Unseeded(Node):
    type_id = "test.unseeded"
    title = "Unseeded"
    cacheable = False
    outputs = (Output("value", INT),)

    def run(self, ctx):
        CALLS.append(ctx.node_id)
        return (len(CALLS),)


TEST_NODES = (Source, Add, Fail, Slow, Sink, Scale, Unseeded)


def make_registry() -> Registry:
    registry = Registry()
    for cls in TEST_NODES:
        registry.register(cls)
    registry.load_entry_points()
    return registry


def chain(graph: Graph, *specs: tuple[str, dict]) -> list[str]:
    """Add nodes and link each one's first output to the next one's first input."""
    ids = []
    for type_id, params in specs:
        record = graph.add_node(type_id, params)
        if ids:
            prev_cls, cls = graph.node_class(ids[-1]), graph.node_class(record.id)
            graph.connect(ids[-1], prev_cls.outputs[0].name, record.id, cls.inputs[0].name)
        ids.append(record.id)
    return ids
