"""FLUX.3 [klein]'s nodes: the layout prompt's table (text to image rows, edit rows when the caption cites
a reference, ids cited once, text and colours in the descs), and bad inputs as one line naming the node's
field before any picture is encoded."""

from __future__ import annotations

import json

import pytest
from flow_graphs import flux_txt2img
from graphs import add

from nodeflow.core import NodeError, RunContext
from nodeflow.engine import Executor
from nodes.flux3.nodes import Flux3LayoutPrompt
from nodes.image._boxes import elements

BOXES = [{"x": 0, "y": 0, "width": 512, "height": 256, "metadata": {"type": "obj", "desc": "a red car"}},
         {"x": 512, "y": 512, "width": 512, "height": 512,
          "metadata": {"type": "text", "text": "OPEN", "desc": "bold sign", "palette": ["#ff0000"]}},
         {"x": 256, "y": 768, "width": 256, "height": 256, "metadata": {"type": "obj", "desc": "a cat"}}]


def _layout(prompt: str, element) -> tuple[str, list]:
    out = Flux3LayoutPrompt().run(RunContext(), prompt, element)[0]
    head, _, table = out.partition(" [")
    return head, json.loads("[" + table)


def test_text_to_image_rows_cite_each_box_once():
    caption, rows = _layout("A street <obj_1> at night", elements(BOXES, 1024, 1024))
    assert caption == "A street <obj_1> at night <text_1> <obj_2>"
    assert rows == [{"id": "obj_1", "bbox": [0, 0, 250, 500], "desc": "a red car"},
                    {"id": "text_1", "bbox": [500, 500, 1000, 1000], "desc": '"OPEN" bold sign Colors: #FF0000.'},
                    {"id": "obj_2", "bbox": [750, 250, 1000, 500], "desc": "a cat"}]


def test_a_caption_citing_a_reference_makes_edit_rows_of_that_picture():
    caption, rows = _layout("In <ref_image_1>, make the car <obj_1> blue", elements(BOXES[:1], 1024, 1024))
    assert caption == "In <ref_image_1>, make the car <obj_1> blue"
    assert rows == [{"id": "obj_1", "from": "ref_image_1", "src_bbox": [0, 0, 250, 500],
                     "tgt_bbox": [0, 0, 250, 500], "desc": "a red car"}]


def test_without_elements_the_caption_is_the_prompt():
    assert Flux3LayoutPrompt().run(RunContext(), "  a cat  ", [])[0] == "a cat"
    assert Flux3LayoutPrompt().run(RunContext(), "a cat", None)[0] == "a cat"


@pytest.mark.parametrize("element", [{"type": "obj", "bbox": [1, 2], "desc": "x"},
                                     {"type": "obj", "bbox": [500, 10, 400, 20], "desc": "x"}, "boxes", [3]])
def test_bad_elements_are_one_line_naming_the_field(element):
    with pytest.raises(NodeError) as caught:
        Flux3LayoutPrompt().run(RunContext(), "a cat", element if isinstance(element, (str, list)) else [element])
    assert caught.value.field == "element" and "\n" not in str(caught.value)


def test_reference_multi_latent_without_a_vae_is_one_line_before_encoding(tiny_flux3, source_png, tmp_path):
    graph, ids = flux_txt2img(tiny_flux3, guidance=None, steps=1)
    load = add(graph, "image.load", image=str(source_png[0]))
    refs = add(graph, "flux3.reference_multi_latent", {"positive": (ids["pos"], "conditioning"),
                                                       "image0": (load, "image")})
    graph.connect(refs, "positive", ids["sampler"], "positive")
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    message = result.errors[refs]
    assert not result.ok and "\n" not in message and "vae" in message, message
    assert not list((tmp_path / "out").glob("*.png"))
