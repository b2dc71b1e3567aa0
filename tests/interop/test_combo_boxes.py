"""Custom Combo and Create Bounding Boxes: saved as ComfyUI's templates save them (options as
extra widgets, the canvas as a list), imported fully mapped, run, and exported back."""

from __future__ import annotations

import json

import pytest

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_data
from nodeflow.interop.comfyui.export import export_api

from .test_comfyui_vocabulary import _node

#: As the Gemini Omni Flash templates save it: choice, index, the options, the empty next slot.
COMBO = ["9:16", 1, "16:9", "9:16", ""]
#: Two boxes as the Ideogram templates save them on an 896 x 1152 canvas (one drawn leftwards).
CANVAS = [{"x": 192, "y": 384, "width": 288, "height": 352,
           "metadata": {"type": "obj", "text": "", "desc": "a rubber duck", "palette": ["#ff0000", "", "#00ff00"]}},
          {"x": 448, "y": 0, "width": -224, "height": 115,
           "metadata": {"type": "text", "text": "Title", "desc": "white serif", "palette": []}}]


def ui_file(combo=COMBO, canvas=CANVAS, last=()):
    nodes = [
        _node(1, "CustomCombo", list(combo), outputs=[("STRING", "STRING", [1]), ("INDEX", "INT", [2])]),
        _node(2, "PreviewAny", [None, None, None], inputs=[("source", "*", 1, False)],
              outputs=[("STRING", "STRING", [])]),
        _node(3, "PreviewAny", [None, None, None], inputs=[("source", "*", 2, False)],
              outputs=[("STRING", "STRING", [])]),
        _node(4, "CreateBoundingBoxes", [896, 1152, canvas, list(last)],
              inputs=[("background", "IMAGE", None, False), ("bboxes", "BOUNDING_BOX,ARRAY,STRING", None, False)],
              outputs=[("preview", "IMAGE", []), ("bboxes", "BOUNDING_BOX", [4]), ("elements", "ARRAY", [3])]),
        _node(5, "PreviewAny", [None, None, None], inputs=[("source", "*", 3, False)],
              outputs=[("STRING", "STRING", [])]),
        _node(6, "PreviewAny", [None, None, None], inputs=[("source", "*", 4, False)],
              outputs=[("STRING", "STRING", [])]),
    ]
    links = [[1, 1, 0, 2, 0, "STRING"], [2, 1, 1, 3, 0, "INT"], [3, 4, 2, 5, 0, "ARRAY"],
             [4, 4, 1, 6, 0, "BOUNDING_BOX"]]
    return {"version": 0.4, "last_node_id": 6, "last_link_id": 4, "nodes": nodes, "links": links}


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _run(executor, data):
    graph, report = import_data(data, default_registry())
    assert report.fully_mapped and not report.problems, report.lines()
    result = executor.run(graph)
    return graph, result


def test_custom_combo_imports_its_options_as_lines_and_passes_on_the_choice_and_its_index(executor):
    graph, result = _run(executor, ui_file())
    assert graph.nodes["1"].params == {"choice": "9:16", "options": "16:9\n9:16"}
    assert result.ok, result.errors
    assert result.values["1"] == {"text": "9:16", "index": 1}
    exported, problems = export_api(graph)
    assert not problems  # unchanged: given back as saved, the editor's empty next slot included
    assert exported["1"]["inputs"] == {"choice": "9:16", "index": 1, "option0": "16:9", "option1": "9:16",
                                       "option2": ""}
    graph.set_param("1", "options", "1:1\n9:16\n16:9")
    exported, _ = export_api(graph)
    assert exported["1"]["inputs"] == {"choice": "9:16", "index": 1, "option0": "1:1", "option1": "9:16",
                                       "option2": "16:9"}


def test_custom_combo_keeps_spaces_refuses_a_choice_outside_its_options_and_has_index_0_without_options(executor):
    graph, result = _run(executor, ui_file(combo=["4s ", 0, "3s ", "4s ", ""]))
    assert result.values["1"] == {"text": "4s ", "index": 1}  # the saved index was stale; the options decide
    graph.set_param("1", "choice", "5s")
    result = executor.run(graph)
    assert not result.ok and "'5s' is not one of the 2 options" in str(result.errors) and "choice" in str(result.errors)
    graph.set_param("1", "options", "")
    assert executor.run(graph).values["1"] == {"text": "5s", "index": 0}


def test_bounding_boxes_give_comfyuis_pixel_frame_and_layout_elements(executor):
    graph, result = _run(executor, ui_file())
    assert result.ok, result.errors
    node = result.values["4"]
    assert node["bboxes"] == [[{"x": 192, "y": 384, "width": 288, "height": 352},
                               {"x": 224, "y": 0, "width": 224, "height": 115}]]
    duck, title = node["elements"]
    # the 0..1000 grid: [ymin, xmin, ymax, xmax] = round(1000 * (384/1152, 192/896, 736/1152, 480/896))
    assert duck == {"type": "obj", "bbox": [333, 214, 639, 536], "desc": "a rubber duck",
                    "color_palette": ["#FF0000", "#00FF00"]}
    assert title == {"type": "text", "bbox": [0, 250, 100, 500], "text": "Title", "desc": "white serif"}
    preview = node["preview"]
    assert tuple(preview.shape) == (1, 1024, 796, 3)  # the long side at 1024
    assert preview[0, 0, 0].tolist() == pytest.approx([32 / 255] * 3, abs=1e-6)  # grey dimmed to a quarter
    assert preview[0, round(384 * 1024 / 1152), round(300 * 796 / 896)].tolist() == pytest.approx([1, 0, 0])
    graph.set_param("4", "width", 1024)
    exported, _ = export_api(graph)
    assert exported["4"]["inputs"]["editor_state"] == {"__value__": CANVAS}
    assert exported["4"]["inputs"]["last_incoming"] == {"__value__": []} and exported["4"]["inputs"]["width"] == 1024


def test_an_upstream_value_replaces_the_canvas_until_it_is_the_one_last_taken(executor):
    graph, _ = import_data(ui_file(), default_registry())
    text = graph.add_node("basic.text", params={"text": json.dumps([{"type": "obj", "bbox": [0, 0, 500, 500]}])})
    graph.connect(text.id, "text", "4", "bboxes")
    result = executor.run(graph)
    assert result.values["4"]["bboxes"] == [[{"x": 0, "y": 0, "width": 448, "height": 576}]]
    graph.set_param("4", "last_incoming", json.dumps([{"x": 0, "y": 0, "width": 448, "height": 576,
                                                        "metadata": {"type": "obj", "text": "", "desc": "",
                                                                     "palette": []}}]))
    assert len(executor.run(graph).values["4"]["bboxes"][0]) == 2  # already taken: the canvas's own boxes


def test_bad_boxes_are_one_line_errors_naming_the_field(executor):
    graph, _ = import_data(ui_file(), default_registry())
    from nodeflow.core import GraphEditError

    with pytest.raises(GraphEditError, match="node 4 input 'boxes': a box's 'width' must be a number"):
        graph.set_param("4", "boxes", json.dumps([{"x": 0, "y": 0, "width": "wide", "height": 1}]))
    text = graph.add_node("basic.text", params={"text": "{not json"})
    graph.connect(text.id, "text", "4", "bboxes")
    result = executor.run(graph)
    assert not result.ok and "not valid JSON" in str(result.errors) and "bboxes" in str(result.errors)
