"""GUI test fixtures: a private registry (basic nodes + test-only nodes), a main window whose
executor runs on the CPU, and mouse helpers that drive the real viewport."""

from __future__ import annotations

import time

import pytest

import nodes.basic.scalars
from nodeflow.core import Input, Node, Output, Registry, default_registry
from nodeflow.core.types import FLOAT, IMAGE, INT, STRING

from .helpers import main_window


class SlowCount(Node):
    """Counts to `steps`, sleeping between steps and honouring cancel (for cancel tests)."""

    type_id = "test.slow"
    title = "Slow Count"
    category = "test"
    inputs = (Input("steps", INT, default=5, min=1, max=10_000), Input("delay", FLOAT, default=0.05, min=0.0))
    outputs = (Output("value", INT),)

    def run(self, ctx, steps, delay):
        for step in range(steps):
            time.sleep(delay)
            ctx.progress(step + 1, steps)
        return (steps,)


class Swatch(Node):
    """An output node that shows a solid-colour PIL image (for the output viewer and thumbnails)."""

    type_id = "test.swatch"
    title = "Swatch"
    category = "test"
    is_output = True
    inputs = (Input("size", INT, default=32, min=1, max=512), Input("color", STRING, default="red",
                                                                   choices=("red", "green", "blue")))
    outputs = (Output("image", IMAGE),)

    def run(self, ctx, size, color):
        from PIL import Image

        image = Image.new("RGB", (size, size), color)
        ctx.show_images([image])
        return (image,)


class TakeImage(Node):
    type_id = "test.take_image"
    title = "Take Image"
    category = "test"
    is_output = True
    inputs = (Input("image", IMAGE), Input("strength", FLOAT, default=0.5, min=0.0, max=1.0, step=0.05),
              Input("seed", INT, default=0, min=0, seed=True))
    outputs = ()

    def run(self, ctx, image, strength, seed):
        return {}


@pytest.fixture
def registry() -> Registry:
    reg = Registry()
    reg.register_module(nodes.basic.scalars, "basic")
    for cls in (SlowCount, Swatch, TakeImage):
        reg.register(cls)
    return reg


@pytest.fixture
def window(qtbot, registry, tmp_path):
    with main_window(qtbot, registry, tmp_path) as win:
        yield win


@pytest.fixture
def full_window(qtbot, tmp_path):
    """The window over the built-in nodes (the default registry)."""
    with main_window(qtbot, default_registry(), tmp_path) as win:
        yield win


@pytest.fixture(autouse=True)
def _empty_clipboard_after_test(qapp):
    """Leave the clipboard empty: image data still on it when the offscreen QApplication is torn
    down at interpreter exit crashes the process (exit 139) after every test passed."""
    yield
    qapp.clipboard().clear()


@pytest.fixture(autouse=True)
def _no_modal_dialogs(monkeypatch):
    """A modal dialog would hang an offscreen test run: make any unexpected one fail the test."""
    from PySide6.QtWidgets import QMessageBox

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected dialog: {args[1:3]}")

    for name in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, refuse)
