"""FLUX.3 [klein]'s layout prompts: a caption that cites elements by id, then the JSON table of their boxes.

The model reads one line: the caption paragraph, one space, then a JSON list with one row per element
(the format of BFL's released layout code, which diffusers' prompt upsampler reproduces):
- text to image: {"id", "bbox", "desc"}, bbox = [y_min, x_min, y_max, x_max] on a 0..1000 grid;
- an edit (the caption cites a reference picture, <ref_image_N>): {"id", "from", "src_bbox", "tgt_bbox",
  "desc"}; an element drawn on the reference is an item of it edited in place, so it comes from the
  first reference the caption cites with the same box before and after.
Elements are Create Bounding Boxes' (`nodes.image._boxes`): ids count each type from 1 in the order
drawn (obj_1, obj_2, text_1); an id the caption does not cite yet is appended to it as <id>. A text
element's desc opens with its wording in double quotes; a palette closes the desc.
"""

from __future__ import annotations

import json
import re
from typing import Any

from nodes.image._boxes import MAX_BOXES, palette

#: How a caption cites a reference picture.
REFERENCE = re.compile(r"<ref_image_(\d+)>")
#: The grid boxes live on.
CANVAS = 1000


class LayoutError(ValueError):
    """Elements that are not Create Bounding Boxes' elements; the message says what is wrong."""


def _box(element: dict[str, Any], index: int) -> list[int]:
    box = element.get("bbox")
    if not isinstance(box, (list, tuple)) or len(box) != 4 or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or v != v for v in box):
        raise LayoutError(f"element {index + 1}'s bbox must be four numbers [y_min, x_min, y_max, x_max]")
    y1, x1, y2, x2 = (max(0, min(CANVAS, round(float(v)))) for v in box)
    if y2 <= y1 or x2 <= x1:
        raise LayoutError(f"element {index + 1}'s bbox {list(box)} is empty on the 0..{CANVAS} grid")
    return [y1, x1, y2, x2]


def _desc(element: dict[str, Any], kind: str) -> str:
    parts = []
    if kind == "text":
        parts.append(json.dumps(str(element.get("text", "")), ensure_ascii=False))
    parts.append(str(element.get("desc", "")).strip())
    colours = palette(element.get("color_palette"))
    if colours:
        parts.append("Colors: " + ", ".join(colours) + ".")
    return " ".join(p for p in parts if p)


def layout_prompt(caption: str, elements: Any) -> str:
    """The caption with its layout table (see module doc); the caption alone when there are no elements."""
    text = caption.strip()
    if elements is None:
        return text
    if isinstance(elements, dict):
        elements = [elements]
    if not isinstance(elements, (list, tuple)):
        raise LayoutError(f"expected Create Bounding Boxes' elements (a list), not {type(elements).__name__}")
    if len(elements) > MAX_BOXES:
        raise LayoutError(f"{len(elements)} elements: at most {MAX_BOXES}")
    if not elements:
        return text
    cited = REFERENCE.search(text)
    counts: dict[str, int] = {}
    rows = []
    for index, element in enumerate(elements):
        if not isinstance(element, dict):
            raise LayoutError(f"element {index + 1} must be an object, not {type(element).__name__}")
        kind = "text" if element.get("type") == "text" else "obj"
        counts[kind] = counts.get(kind, 0) + 1
        row_id, box, desc = f"{kind}_{counts[kind]}", _box(element, index), _desc(element, kind)
        if cited is None:
            rows.append({"id": row_id, "bbox": box, "desc": desc})
        else:
            rows.append({"id": row_id, "from": f"ref_image_{cited.group(1)}", "src_bbox": box, "tgt_bbox": box,
                         "desc": desc})
        if f"<{row_id}>" not in text:
            text = f"{text} <{row_id}>" if text else f"<{row_id}>"
    return f"{text} {json.dumps(rows, ensure_ascii=False)}"
