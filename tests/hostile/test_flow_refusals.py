"""Class 6 of the second probe: chains that pass each node's own check and then multiply what flows
(batches joined with themselves, upscales, paddings, repeats, prompts concatenated with themselves)
are sized through the graph and refused at validation, naming the node and field, before any work."""

from __future__ import annotations

import re

import pytest
from PIL import Image


def _chain(source: list[dict], link: tuple[str, str], node: dict, inputs: tuple[str, ...], count: int,
           end: tuple[str, str]) -> tuple[list[dict], list[tuple], list[str]]:
    """`source` nodes, then `count` copies of `node` (its "output" named) each fed by the one before
    on all `inputs`, then `end` (type, input) showing the last one. Returns nodes, links, the chain's ids."""
    nodes, links, ids = list(source), [], []
    previous = link
    for i in range(count):
        node_id = str(100 + i)
        nodes.append({"id": node_id, **node})
        links += [(previous[0], previous[1], node_id, name) for name in inputs]
        previous = (node_id, node["output"])
        ids.append(node_id)
    nodes = [{k: v for k, v in n.items() if k != "output"} for n in nodes]
    nodes.append({"id": "999", "type": end[0]})
    links.append((previous[0], previous[1], "999", end[1]))
    return nodes, links, ids


@pytest.fixture
def picture(sandbox):
    path = sandbox.root / "work" / "small.png"
    Image.new("RGB", (64, 64), "red").save(path)
    sandbox.inputs.add(path)
    return {"id": "1", "type": "image.load", "params": {"image": "small.png"}}


def _refused(sandbox, nodes, links, ids, field):
    wf = sandbox.workflow(nodes, links)
    code, err = sandbox.cli("validate", wf)
    lines = [line for line in err.splitlines() if "would put out about" in line]
    assert code == 2 and len(lines) == 1, err
    named = re.search(r"node (\d+) input '([a-z_0-9]+)'", lines[0])
    assert named and named.group(1) in ids and named.group(2) == field, lines[0]
    assert "available on cpu" in lines[0] and len(lines[0]) < 300
    return named.group(1)


def test_image_batch_of_itself_24_times_is_refused(sandbox, picture):
    nodes, links, ids = _chain([picture], ("1", "image"),
                               {"type": "image.batch", "output": "image"}, ("image_1", "image_2"), 24,
                               ("image.preview", "images"))
    node = _refused(sandbox, nodes, links, ids, "image_2")
    assert int(node) > 100  # the first batches fit: the refusal names where it stops fitting


def test_image_scale_by_8_four_times_is_refused(sandbox, picture):
    nodes, links, ids = _chain([picture], ("1", "image"),
                               {"type": "image.scale_by", "params": {"scale_by": 8.0}, "output": "image"},
                               ("image",), 4, ("image.preview", "images"))
    _refused(sandbox, nodes, links, ids, "scale_by")


def test_pad_for_outpaint_16384_three_times_is_refused(sandbox, picture):
    pad = {"left": 16384, "top": 16384, "right": 16384, "bottom": 16384}
    nodes, links, ids = _chain([picture], ("1", "image"),
                               {"type": "image.pad_for_outpaint", "params": pad, "output": "image"},
                               ("image",), 3, ("image.preview", "images"))
    _refused(sandbox, nodes, links, ids, "left")


def test_repeat_latent_batch_64_four_times_is_refused(sandbox):
    empty = {"id": "1", "type": "latent.empty", "params": {"width": 512, "height": 512, "batch_size": 1}}
    nodes, links, ids = _chain([empty], ("1", "latent"),
                               {"type": "latent.repeat_batch", "params": {"amount": 64}, "output": "latent"},
                               ("latent",), 4, ("basic.show", "value"))
    _refused(sandbox, nodes, links, ids, "amount")


def test_conditioning_concat_of_itself_20_times_is_refused(sandbox):
    source = [{"id": "1", "type": "models.load_checkpoint", "params": {"checkpoint": "tiny-shapes"}},
              {"id": "2", "type": "conditioning.text_encode", "params": {"text": "a red circle"}}]
    nodes, links, ids = _chain(source, ("2", "conditioning"),
                               {"type": "conditioning.concat", "output": "conditioning"},
                               ("conditioning_to", "conditioning_from"), 20, ("basic.show", "value"))
    links.append(("1", "clip", "2", "clip"))
    _refused(sandbox, nodes, links, ids, "conditioning_from")


def test_the_same_chains_a_few_times_over_still_validate(sandbox, picture):
    nodes, links, _ = _chain([picture], ("1", "image"),
                             {"type": "image.batch", "output": "image"}, ("image_1", "image_2"), 4,
                             ("image.preview", "images"))
    code, err = sandbox.cli("validate", sandbox.workflow(nodes, links))
    assert code == 0, err
