"""The editor never opens a FIFO a shared workflow names as its picture (it would hang the UI)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from nodeflow.core import default_registry
from nodeflow.core.graph import Graph
from nodeflow.gui.mask_editor.source import node_picture


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_as_the_picture_is_not_opened(qapp, tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    graph = Graph(default_registry())
    node = graph.add_node("image.load", {"image": "pipe.png"}).id

    def release() -> None:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass

    rescue = threading.Timer(10, release)
    rescue.start()
    started = time.monotonic()
    try:
        assert node_picture(graph, node, tmp_path) is None
    finally:
        rescue.cancel()
    assert time.monotonic() - started < 10
