"""The values Create Bounding Boxes reads and makes, as ComfyUI's node defines them (plain data).

- A *box* is a canvas rectangle in pixels: {x, y, width, height, metadata: {type: "obj"|"text",
  text, desc, palette: ["#rrggbb", ...]}} (the editor's saved state is a list of them).
- A *frame* is the BOUNDING_BOX output: [[{x, y, width, height}, ...]], one list for the one
  picture the boxes annotate ([] when there are none).
- An *element* is the ARRAY output's item, the layout prompts' format: {type, bbox: [ymin, xmin,
  ymax, xmax] on a 0..1000 grid, text (text elements only), desc, color_palette (upper-case, at
  most 5, only when there are colours)}.
The `bboxes` input takes any of: boxes, a frame, elements or their JSON text; a box's width or
height may be negative (drawn leftwards or upwards) and is turned round.
"""

from __future__ import annotations

import json
from typing import Any

#: Boxes one canvas may hold: far more than a layout prompt uses, few enough to draw at once.
MAX_BOXES = 256
#: Colours of a box's palette an element keeps.
PALETTE_KEPT = 5


class BoxError(ValueError):
    """A value that is not boxes, a frame or elements; the message says what is wrong."""


def _number(box: dict, key: str) -> float:
    value = box.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) > 1e9:
        raise BoxError(f"a box's '{key}' must be a number, not {json.dumps(value)[:40]}")
    return float(value)


def _box(box: dict) -> dict[str, Any]:
    x, y, w, h = (_number(box, key) for key in ("x", "y", "width", "height"))
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    out: dict[str, Any] = {"x": x, "y": y, "width": w, "height": h}
    meta = box.get("metadata")
    if isinstance(meta, dict):
        out["metadata"] = meta
    return out


def _is_element(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("bbox"), (list, tuple)) and len(item["bbox"]) == 4


def _element_box(element: dict, width: int, height: int) -> dict[str, Any]:
    try:
        ymin, xmin, ymax, xmax = (float(v) / 1000.0 for v in element["bbox"])
    except (TypeError, ValueError):
        raise BoxError("an element's 'bbox' must be four numbers [ymin, xmin, ymax, xmax]") from None
    kind = "text" if element.get("type") == "text" else "obj"
    return {"x": round(min(xmin, xmax) * width), "y": round(min(ymin, ymax) * height),
            "width": round(abs(xmax - xmin) * width), "height": round(abs(ymax - ymin) * height),
            "metadata": {"type": kind, "text": element.get("text", "") if kind == "text" else "",
                         "desc": element.get("desc", ""), "palette": element.get("color_palette") or []}}


def parse_boxes(value: Any, width: int, height: int) -> list[dict[str, Any]]:
    """Boxes from whatever the `bboxes` input or the saved state holds (see the module docstring)."""
    if value is None:
        return []
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise BoxError(f"the boxes are not valid JSON ({exc})") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise BoxError(f"expected boxes, a frame or elements, not {type(value).__name__}")
    if value and isinstance(value[0], list):  # a frame: the first picture's boxes
        value = value[0]
    if len(value) > MAX_BOXES:
        raise BoxError(f"{len(value)} boxes: at most {MAX_BOXES}")
    boxes = []
    for item in value:
        if not isinstance(item, dict):
            raise BoxError(f"a box must be an object, not {type(item).__name__}")
        boxes.append(_element_box(item, width, height) if _is_element(item) else _box(item))
    return boxes


def frame(boxes: list[dict[str, Any]]) -> list[list[dict[str, int]]]:
    """The BOUNDING_BOX value: the boxes in whole pixels, one frame (none when there are no boxes)."""
    pixels = [{key: round(box[key]) for key in ("x", "y", "width", "height")} for box in boxes]
    return [pixels] if pixels else []


def _grid(value: float) -> int:
    return max(0, min(1000, round(value * 1000)))


def elements(boxes: list[dict[str, Any]], width: int, height: int) -> list[dict[str, Any]]:
    """The ARRAY value: each box as a layout prompt's element, on the 0..1000 grid of the canvas."""
    out = []
    for box in boxes:
        meta = box.get("metadata") or {}
        kind = "text" if meta.get("type") == "text" else "obj"
        x, y = box["x"] / width, box["y"] / height
        right, bottom = x + box["width"] / width, y + box["height"] / height
        element: dict[str, Any] = {"type": kind, "bbox": [_grid(y), _grid(x), _grid(bottom), _grid(right)]}
        if kind == "text":
            element["text"] = str(meta.get("text", ""))
        element["desc"] = str(meta.get("desc", ""))
        colours = palette(meta.get("palette"))
        if colours:
            element["color_palette"] = colours[:PALETTE_KEPT]
        out.append(element)
    return out


def palette(colours: Any) -> list[str]:
    """A box's colours, upper-case, empty ones dropped (a dict's values count as its colours)."""
    if isinstance(colours, dict):
        colours = colours.values()
    return [c.upper() for c in colours or () if isinstance(c, str) and c]


def rgb(colour: str) -> tuple[int, int, int] | None:
    """'#RRGGBB' as (r, g, b), None for anything else."""
    digits = colour.lstrip("#")
    try:
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)) if len(digits) == 6 else None
    except ValueError:
        return None
