"""The class map: which NodeFlow node each ComfyUI class becomes, and how its values are named.

One `Entry` per ComfyUI class, declared as data in the tables of `classes/` (one module per area)
and joined in `ENTRIES` below. To map a new class, add one line to its area's table (or a new
area's module, listed below); nothing else in the importer or exporter needs to know about it:

    Entry("ImageInvert", "image.invert", widgets=(), inputs={"image": "image"}, outputs=("image",))

- `widgets`: the class's widget names in ComfyUI's `widgets_values` order (FORMATS.md section 7),
  with `CONTROL` where the UI saves a seed's control_after_generate value, `UPLOAD` for
  LoadImage's upload button and `SHOWN` for display-only widgets; a last name ending in `*`
  ("option*") takes every value left, named option0, option1, ... (widgets the frontend adds as
  the user types, Custom Combo's options). Never guessed: read it off the class's definition.
- `inputs`: ComfyUI input name (socket or widget) -> NodeFlow input name, for every input that
  maps. A ComfyUI input missing here makes a file that sets it report the value as not carried.
- `outputs`: NodeFlow output name for each ComfyUI output index (None: no NodeFlow equivalent).
- `variants`: for a class whose widgets depend on a choice (ComfyUI's dynamic combos, e.g.
  ResizeImageMaskNode's resize_type): the name of the choosing widget and, for each of its values,
  the widgets that follow it in `widgets_values` (named as ComfyUI names them, "resize_type.width").
- `fixed`: NodeFlow parameters set on import whatever the file says (e.g. long prompts chunked
  the way ComfyUI does), left out again on export.
- `values` / `export`: converters (ComfyUI-named values -> NodeFlow params, and back) for classes
  whose numbers mean something different (KSampler's denoise in the diffusers convention) or whose
  sampling convention must be set; see `convert.py`.
"""

from __future__ import annotations

from nodeflow.interop.comfyui.classes import (
    audio,
    conditioning,
    data,
    flux3,
    ltx,
    ltx_text,
    minimax,
    model_patches,
    models,
    pictures,
    sampling,
    sd_extras,
    video,
    vision,
    wan,
)
from nodeflow.interop.comfyui.classes.entry import CONTROL, SHOWN, UPLOAD, Entry

__all__ = ["CONTROL", "ENTRIES", "SHOWN", "UPLOAD", "Entry", "entry_for_class", "entry_for_node"]

ENTRIES: tuple[Entry, ...] = (
    *data.DATA,
    *models.MODELS,
    *conditioning.CONDITIONING,
    *sampling.SAMPLING,
    *pictures.PICTURES,
    *sd_extras.SD_EXTRAS,
    *ltx.LTX,
    *ltx_text.LTX_TEXT,
    *video.VIDEO,
    *flux3.FLUX3,
    *wan.WAN,
    *minimax.MINIMAX,
    *vision.VISION,
    *model_patches.MODEL_PATCHES,
    *audio.AUDIO,
)

_BY_CLASS = {e.comfy: e for e in ENTRIES}
#: The entry export uses for a NodeFlow type: the first one listed for it.
_BY_NODE: dict[str, Entry] = {}
for _entry in ENTRIES:
    _BY_NODE.setdefault(_entry.node, _entry)


def entry_for_class(class_type: str) -> Entry | None:
    return _BY_CLASS.get(class_type)


def entry_for_node(type_id: str) -> Entry | None:
    return _BY_NODE.get(type_id)


