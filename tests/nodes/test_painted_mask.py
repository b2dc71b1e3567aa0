"""Load Image's painted mask: stored in the workflow, output as MASK, checked at validation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from nodeflow.core import Graph, NodeError, RunContext, default_registry, files
from nodeflow.core.masks import encode_mask
from nodeflow.engine.plan import validate
from nodes.image.load_save import LoadImage


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "pic.png"
    Image.new("RGBA", (24, 16), (200, 10, 10, 255)).save(path)
    return path


def painted(w=24, h=16):
    mask = np.zeros((h, w), np.uint8)
    mask[4:12, 6:18] = 255
    mask[0, 0] = 90  # a soft pixel: the grey level survives
    return mask


def test_painted_mask_is_the_mask_output(picture):
    mask = painted()
    _, out = LoadImage().run(RunContext(), image=str(picture), painted_mask=encode_mask(24, 16, mask.tobytes()))
    assert tuple(out.shape) == (1, 16, 24)
    np.testing.assert_allclose(out[0].numpy(), mask / 255.0, atol=1e-6)


def test_without_a_painted_mask_the_alpha_is_used(tmp_path):
    path = tmp_path / "holed.png"
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(path)
    _, out = LoadImage().run(RunContext(), image=str(path))
    assert float(out.min()) == 1.0


def test_a_mask_for_another_size_is_stretched_with_a_warning(picture):
    messages = []
    ctx = RunContext()
    ctx.on_message = lambda node, text: messages.append(text)
    _, out = LoadImage().run(ctx, image=str(picture), painted_mask=encode_mask(12, 8, bytes([255]) * 96))
    assert tuple(out.shape) == (1, 16, 24) and float(out.min()) == 1.0
    assert any("stretched" in m for m in messages)


def test_a_broken_mask_is_refused_at_validation_naming_the_field(picture):
    graph = Graph(default_registry())
    load = graph.add_node("image.load", {"image": str(picture)}).id
    preview = graph.add_node("image.preview").id
    graph.connect(load, "image", preview, "images")
    graph.nodes[load].params["painted_mask"] = "data:image/png;base64,AAAA"
    problems = validate(graph)
    assert [(p.node_id, p.field) for p in problems] == [(load, "painted_mask")]
    assert "PNG" in problems[0].message
    with pytest.raises(NodeError):
        LoadImage().run(RunContext(), image=str(picture), painted_mask="data:image/png;base64,AAAA")


def test_the_mask_survives_save_and_reopen(picture, tmp_path):
    stored = encode_mask(24, 16, painted().tobytes())
    graph = Graph(default_registry())
    load = graph.add_node("image.load", {"image": str(picture), "painted_mask": stored}).id
    target = tmp_path / "shared" / "wf.json"
    target.parent.mkdir()
    files.save(graph, target)
    reopened, _ = files.load(target, default_registry())
    assert reopened.nodes[load].params["painted_mask"] == stored
    _, out = LoadImage().run(RunContext(), image=str(picture), painted_mask=reopened.nodes[load].params["painted_mask"])
    np.testing.assert_allclose(out[0].numpy(), painted() / 255.0, atol=1e-6)
