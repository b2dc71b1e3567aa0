"""Image Compare's pair opens the output viewer's compare mode by itself."""

from __future__ import annotations

from PIL import Image

from nodeflow.core.files import COMPARE_INFO
from nodeflow.gui.outputs.entries import output_images
from nodeflow.gui.outputs.viewer import OutputViewer


def test_a_compare_pair_is_shown_with_the_divider_and_other_images_are_not(qtbot, tmp_path):
    viewer = OutputViewer(tmp_path / "out")
    qtbot.addWidget(viewer)
    plain = Image.new("RGB", (8, 8), "red")
    viewer.add_images(output_images([plain], "1", None))
    assert viewer.stack.currentWidget() is viewer.single
    a, b = Image.new("RGB", (8, 8), "black"), Image.new("RGB", (8, 8), "white")
    a.info[COMPARE_INFO], b.info[COMPARE_INFO] = "a", "b"
    viewer.add_images(output_images([a, b], "2", None))
    assert viewer.stack.currentWidget() is viewer.compare and viewer.buttons["compare"].isChecked()
    assert viewer.selected_rows() == [1, 2]


def test_node_search_finds_a_node_by_its_comfyui_class_name():
    from nodeflow.core import default_registry
    from nodeflow.gui import node_search

    registry = default_registry()
    for query, type_id in (("ComfySwitchNode", "basic.switch"), ("ComfyMathExpression", "basic.expression"),
                           ("ResizeImageMaskNode", "image.resize_image_mask"), ("regexextract", "basic.regex_extract")):
        assert type_id in [cls.type_id for cls in node_search.search(registry, query)], query
