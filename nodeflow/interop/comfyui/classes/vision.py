"""CLIP vision: the picture encoder image-conditioned models read beside their text encoder
(`nodes.vision.clip_vision`), the style models that make prompt tokens of it (Flux Redux:
`nodes.vision.style_model`), and Scale ROPE (`nodes.models.rope`), the model patch the CLIP-vision
conditioned ChronoEdit template sets its frame positions with.

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`. Widget
orders are read off ComfyUI's nodes.py (CLIPVisionLoader: clip_name; CLIPVisionEncode: crop, after
its clip_vision and image sockets; StyleModelLoader: style_model_name; StyleModelApply: strength,
strength_type) and comfy_extras/nodes_rope.py (ScaleROPE: scale and shift of x, y, t).
"""

from __future__ import annotations

from nodeflow.interop.comfyui.classes.entry import Entry, same

_ROPE = ("scale_x", "shift_x", "scale_y", "shift_y", "scale_t", "shift_t")

VISION: tuple[Entry, ...] = (
    Entry("CLIPVisionLoader", "vision.load_clip_vision", ("clip_name",), same("clip_name"), ("clip_vision",)),
    Entry("CLIPVisionEncode", "vision.clip_vision_encode", ("crop",), same("clip_vision", "image", "crop"),
          ("clip_vision_output",)),
    Entry("StyleModelLoader", "vision.load_style_model", ("style_model_name",), same("style_model_name"),
          ("style_model",)),
    Entry("StyleModelApply", "vision.apply_style_model", ("strength", "strength_type"),
          same("conditioning", "style_model", "clip_vision_output", "strength", "strength_type"),
          ("conditioning",)),
    Entry("ScaleROPE", "models.scale_rope", _ROPE, same("model", *_ROPE), ("model",)),
)
