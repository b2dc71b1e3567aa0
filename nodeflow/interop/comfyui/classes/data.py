"""Primitives, switches, text, maths, sizes and the pictures shown or saved (issue 24's vocabulary):
pure data nodes the planner may run to decide a switch.

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`.
"""

from __future__ import annotations

from nodeflow.interop.comfyui import convert_data
from nodeflow.interop.comfyui.classes.entry import CONTROL, SHOWN, Entry, same

#: TextGenerate's sampling_mode "on" widgets, in its saved order (comfy_extras/nodes_textgen.py).
_TEXTGEN_SAMPLING = ("temperature", "top_k", "top_p", "min_p", "repetition_penalty", "seed", "presence_penalty")

DATA: tuple[Entry, ...] = (
    # values
    Entry("PrimitiveInt", "basic.int", ("value", CONTROL), {"value": "value"}, ("value",)),
    Entry("PrimitiveFloat", "basic.float", ("value",), {"value": "value"}, ("value",)),
    Entry("PrimitiveBoolean", "basic.boolean", ("value",), {"value": "value"}, ("value",)),
    Entry("PrimitiveString", "basic.text", ("value",), {"value": "text"}, ("text",)),
    Entry("PrimitiveStringMultiline", "basic.text", ("value",), {"value": "text"}, ("text",)),
    Entry("PreviewAny", "basic.show", (SHOWN, SHOWN, SHOWN), {"source": "value"}, ("text",)),
    # the frontend's Reroute dot (UI files only): a NodeFlow reroute where it stood, not a dropped node
    Entry("Reroute", "basic.reroute", (), {"": "value"}, ("value",)),
    Entry("ComfySwitchNode", "basic.switch", ("switch",),
          {"on_false": "on_false", "on_true": "on_true", "switch": "switch"}, ("output",)),
    Entry("TextGenerate", "conditioning.generate_text",
          ("prompt", "max_length", "sampling_mode", "thinking", "use_default_template", "mtp"),
          same("clip", "prompt", "image", "system_prompt", "max_length", "sampling_mode", "thinking",
                "use_default_template", "mtp") | {f"sampling_mode.{n}": n for n in _TEXTGEN_SAMPLING}, ("text",),
          variants=("sampling_mode", {"on": tuple(f"sampling_mode.{n}" for n in _TEXTGEN_SAMPLING), "off": ()}),
          values=convert_data.text_generate_values),
    Entry("CustomCombo", "basic.custom_combo", ("choice", "index", "option*"),
          same("choice", "index") | {f"option{n}": f"option.{n}" for n in range(convert_data.MAX_OPTIONS)},
          ("text", "index"), values=convert_data.custom_combo_values, export=convert_data.custom_combo_export),
    Entry("CreateBoundingBoxes", "image.bounding_boxes", ("width", "height", "editor_state", "last_incoming"),
          same("background", "bboxes", "width", "height", "last_incoming") | {"editor_state": "boxes"},
          ("preview", "bboxes", "elements"), values=convert_data.bounding_boxes_values,
          export=convert_data.bounding_boxes_export),
    # text, maths and sizes (issue 24): pure data nodes, the planner may run them to decide a switch
    Entry("StringConcatenate", "basic.concatenate", ("string_a", "string_b", "delimiter"),
          same("string_a", "string_b", "delimiter"), ("text",)),
    Entry("StringReplace", "basic.replace", ("string", "find", "replace"), same("string", "find", "replace"),
          ("text",)),
    Entry("RegexReplace", "basic.regex_replace",
          ("string", "regex_pattern", "replace", "case_insensitive", "multiline", "dotall", "count"),
          same("string", "regex_pattern", "replace", "case_insensitive", "multiline", "dotall", "count"), ("text",)),
    Entry("RegexExtract", "basic.regex_extract",
          ("string", "regex_pattern", "mode", "case_insensitive", "multiline", "dotall", "group_index"),
          same("string", "regex_pattern", "mode", "case_insensitive", "multiline", "dotall", "group_index"),
          ("text",)),
    Entry("CameraAngle", "basic.camera_angle", ("horizontal_angle", "vertical_angle", "zoom", SHOWN),
          same("horizontal_angle", "vertical_angle", "zoom", "image"), (None, "prompt")),  # SHOWN: its 3D view
    Entry("JsonExtractString", "basic.json_extract", ("json_string", "key"), same("json_string", "key"), ("text",)),
    Entry("ComfyMathExpression", "basic.expression", ("expression",),
          {"expression": "expression"} | {f"values.{name}": name for name in "abcdefgh"}, ("float", "int", "bool")),
    Entry("ComfyNumberConvert", "basic.number_convert", (), same("value"), ("float", "int")),
    Entry("ResolutionSelector", "image.resolution_selector", ("aspect_ratio", "megapixels", "multiple"),
          same("aspect_ratio", "megapixels", "multiple"), ("width", "height")),
    Entry("GetImageSize", "image.get_size", (), same("image"), ("width", "height", "batch_size")),
    Entry("ImageScaleToTotalPixels", "image.scale_to_total_pixels",
          ("upscale_method", "megapixels", "resolution_steps"),
          {"image": "image", "upscale_method": "method", "megapixels": "megapixels",
           "resolution_steps": "resolution_steps"}, ("image",)),
    Entry("ImageScaleToMaxDimension", "image.scale_to_max_dimension", ("upscale_method", "largest_size"),
          {"image": "image", "upscale_method": "method", "largest_size": "largest_size"}, ("image",)),
    Entry("ResizeImageMaskNode", "image.resize_image_mask", ("resize_type", "scale_method"),
          {"input": "input", "resize_type": "resize_type", "scale_method": "scale_method",
           "resize_type.match": "match"} | {f"resize_type.{name}": name for name in (
               "multiplier", "width", "height", "crop", "longer_size", "shorter_size", "megapixels", "multiple")},
          ("resized",), variants=("resize_type", {
              "scale by multiplier": ("resize_type.multiplier",),
              "scale dimensions": ("resize_type.width", "resize_type.height", "resize_type.crop"),
              "scale longer dimension": ("resize_type.longer_size",),
              "scale shorter dimension": ("resize_type.shorter_size",),
              "scale width": ("resize_type.width",), "scale height": ("resize_type.height",),
              "scale total pixels": ("resize_type.megapixels",), "match size": ("resize_type.crop",),
              "scale to multiple": ("resize_type.multiple",)})),
    # pictures put together, shown, saved (issue 24)
    Entry("JoinImageWithAlpha", "image.join_alpha", (), same("image", "alpha"), ("image",)),
    Entry("ImageStitch", "image.stitch", ("direction", "match_image_size", "spacing_width", "spacing_color"),
          same("image1", "image2", "direction", "match_image_size", "spacing_width", "spacing_color"), ("image",)),
    Entry("BatchImagesNode", "image.batch_many", (), {f"images.image{n}": f"image{n}" for n in range(16)},
          ("image",)),
    Entry("Canny", "image.canny", ("low_threshold", "high_threshold"),
          same("image", "low_threshold", "high_threshold"), ("image",)),
    Entry("ImageCompare", "image.compare", (SHOWN,), same("image_a", "image_b"), ()),
    Entry("MaskPreview", "mask.preview", (), same("mask"), ("mask",)),
    Entry("SaveImageAdvanced", "image.save_advanced", ("filename_prefix", "format", "bit_depth", "input_color_space"),
          same("images", "filename_prefix", "format", "bit_depth", "input_color_space"), ("images",)),
    Entry("SaveText", "basic.save_text", ("filename_prefix", "format"), same("text", "filename_prefix", "format"),
          ("text",)),
    Entry("ManualSigmas", "sampling.manual_sigmas", ("sigmas",), same("sigmas"), ("sigmas",)),
)
