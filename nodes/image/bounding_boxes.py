"""Create Bounding Boxes: rectangles drawn on a canvas, for layout prompts (ComfyUI's CreateBoundingBoxes).

The boxes are the node's saved canvas state (`boxes`, JSON text; the editor shows it as text), or
what the `bboxes` input brings: as in ComfyUI, a new upstream value replaces the canvas, and the
canvas's own edits win until the upstream value changes again (`last_incoming` remembers the
value that last replaced it). Outputs: a preview (the boxes numbered over the dimmed background,
or over grey, at most 1024 px on its long side), the BOUNDING_BOX frame and the ARRAY of elements
(formats: `nodes.image._boxes`).
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import ANY, IMAGE, INT, STRING
from nodes.image._boxes import BoxError, elements, frame, palette, parse_boxes, rgb

BOUNDING_BOX = "BOUNDING_BOX"
ARRAY = "ARRAY"
#: The preview's long side at most, and how dark the background is drawn under the boxes.
PREVIEW_LONG_SIDE = 1024
BACKGROUND_BRIGHTNESS = 0.25
DEFAULT_OUTLINE = (140, 140, 140)


def _check_boxes(text: str) -> None:
    try:
        parse_boxes(text, 1024, 1024)
    except BoxError as exc:
        raise ValueError(str(exc)) from None


class CreateBoundingBoxes(Node):
    type_id = "image.bounding_boxes"
    title = "Create Bounding Boxes"
    category = "image"
    description = ("Boxes on a width x height canvas, each with a type (obj or text), a text, a description "
                   "and colours, for layout prompts (ComfyUI's Create Bounding Boxes): a numbered preview, the "
                   "boxes in pixels and as prompt elements on a 0..1000 grid.")
    inputs = (
        Input("background", IMAGE, optional=True, help="drawn dimmed under the boxes in the preview"),
        Input("bboxes", ANY, optional=True,
              help="boxes, a BOUNDING_BOX frame, elements or their JSON: a new value replaces the canvas"),
        Input("width", INT, default=1024, min=64, max=16384, step=16),
        Input("height", INT, default=1024, min=64, max=16384, step=16),
        Input("boxes", STRING, default="[]", multiline=True, check=_check_boxes,
              help='the canvas: [{"x", "y", "width", "height", "metadata": {"type", "text", "desc", "palette"}}]'),
        Input("last_incoming", STRING, default="[]", check=_check_boxes,
              help="the upstream boxes that last replaced the canvas (kept by ComfyUI's editor)"),
    )
    outputs = (Output("preview", IMAGE), Output("bboxes", BOUNDING_BOX), Output("elements", ARRAY))

    def run(self, ctx: RunContext, width: int, height: int, boxes: str, last_incoming: str,
            background: Any = None, bboxes: Any = None) -> tuple[Any, list, list]:
        try:
            incoming = parse_boxes(bboxes, width, height)
        except BoxError as exc:
            raise NodeError(str(exc), "bboxes") from None
        applied = parse_boxes(last_incoming, width, height)
        source = incoming if incoming and incoming != applied else parse_boxes(boxes, width, height)
        preview = _preview(source, width, height, background)
        return preview, frame(source), elements(source, width, height)


def _preview(boxes: list[dict], width: int, height: int, background: Any) -> Any:
    from PIL import Image, ImageDraw, ImageEnhance, ImageFont

    from nodes._tensors import image_to_pils, pil_to_image

    if background is not None:
        base = image_to_pils(background[:1, ..., :3])[0]
    else:
        base = Image.new("RGB", (width, height), (128, 128, 128))
    scale = min(1.0, PREVIEW_LONG_SIDE / max(base.size))
    size = (max(1, round(base.width * scale)), max(1, round(base.height * scale)))
    canvas = ImageEnhance.Brightness(base.resize(size, Image.LANCZOS)).enhance(BACKGROUND_BRIGHTNESS)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    sx, sy = size[0] / width, size[1] / height
    for number, box in enumerate(boxes, 1):
        colours = palette((box.get("metadata") or {}).get("palette"))
        colour = (rgb(colours[0]) if colours else None) or DEFAULT_OUTLINE
        left, top = box["x"] * sx, box["y"] * sy
        right, bottom = left + box["width"] * sx, top + box["height"] * sy
        draw.rectangle([left, top, right, bottom], outline=colour, width=2)
        draw.text((left + 3, top + 2), f"{number:02d}", fill=colour, font=font)
    return pil_to_image(canvas)

