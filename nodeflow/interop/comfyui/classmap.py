"""The class map: which NodeFlow node each ComfyUI class becomes, and how its values are named.

One `Entry` per ComfyUI class, declared as data in `ENTRIES` below. To map a new class, add one
line; nothing else in the importer or exporter needs to know about it:

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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nodeflow.interop.comfyui import convert, convert_data

#: Marks the control_after_generate position in `widgets` (never sent to ComfyUI's API).
CONTROL = "control_after_generate"
#: Marks LoadImage's upload button position in `widgets` (saved as "image", or missing).
UPLOAD = "upload"
#: Marks a read-only display widget (PreviewAny's preview panes): saved by the UI, never a value.
SHOWN = "shown"


@dataclass(frozen=True)
class Entry:
    comfy: str
    node: str
    widgets: tuple[str, ...] = ()
    inputs: Mapping[str, str] = field(default_factory=dict)
    outputs: tuple[str | None, ...] = ()
    fixed: Mapping[str, Any] = field(default_factory=dict)
    variants: tuple[str, Mapping[str, tuple[str, ...]]] | None = None
    values: Callable[[dict[str, Any], convert.Notes], dict[str, Any]] | None = None
    export: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def widgets_for(self, values: list[Any]) -> tuple[str, ...]:
        """The widget order of a node saved with `values` (its choice's widgets put in)."""
        if self.variants is None:
            return self.widgets
        chooser, choices = self.variants
        at = self.widgets.index(chooser)
        chosen = values[at] if at < len(values) and isinstance(values[at], str) else ""
        return self.widgets[:at + 1] + tuple(choices.get(chosen, ())) + self.widgets[at + 1:]

    def widget_names(self, values: list[Any]) -> tuple[str, ...]:
        return tuple(w for w in self.widgets_for(values) if w not in (CONTROL, UPLOAD, SHOWN) and not w.endswith("*"))


def _same(*names: str) -> dict[str, str]:
    """Inputs that keep their ComfyUI names."""
    return {name: name for name in names}


_SAMPLER_INPUTS = {"model": "model", "positive": "positive", "negative": "negative",
                   "latent_image": "latent_image", "seed": "seed", "steps": "steps", "cfg": "cfg",
                   "sampler_name": "sampler_name", "scheduler": "scheduler", "denoise": "denoise"}

#: VAEDecodeTiled's and VAEEncodeTiled's widgets, in their saved order (nodes.py).
_TILED = ("tile_size", "overlap", "temporal_size", "temporal_overlap")

#: TextGenerate's sampling_mode "on" widgets, in its saved order (comfy_extras/nodes_textgen.py).
_TEXTGEN_SAMPLING = ("temperature", "top_k", "top_p", "min_p", "repetition_penalty", "seed", "presence_penalty")

ENTRIES: tuple[Entry, ...] = (
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
          _same("clip", "prompt", "image", "system_prompt", "max_length", "sampling_mode", "thinking",
                "use_default_template", "mtp") | {f"sampling_mode.{n}": n for n in _TEXTGEN_SAMPLING}, ("text",),
          variants=("sampling_mode", {"on": tuple(f"sampling_mode.{n}" for n in _TEXTGEN_SAMPLING), "off": ()}),
          values=convert_data.text_generate_values),
    Entry("CustomCombo", "basic.custom_combo", ("choice", "index", "option*"),
          _same("choice", "index") | {f"option{n}": f"option.{n}" for n in range(convert_data.MAX_OPTIONS)},
          ("text", "index"), values=convert_data.custom_combo_values, export=convert_data.custom_combo_export),
    Entry("CreateBoundingBoxes", "image.bounding_boxes", ("width", "height", "editor_state", "last_incoming"),
          _same("background", "bboxes", "width", "height", "last_incoming") | {"editor_state": "boxes"},
          ("preview", "bboxes", "elements"), values=convert_data.bounding_boxes_values,
          export=convert_data.bounding_boxes_export),
    # text, maths and sizes (issue 24): pure data nodes, the planner may run them to decide a switch
    Entry("StringConcatenate", "basic.concatenate", ("string_a", "string_b", "delimiter"),
          _same("string_a", "string_b", "delimiter"), ("text",)),
    Entry("StringReplace", "basic.replace", ("string", "find", "replace"), _same("string", "find", "replace"),
          ("text",)),
    Entry("RegexReplace", "basic.regex_replace",
          ("string", "regex_pattern", "replace", "case_insensitive", "multiline", "dotall", "count"),
          _same("string", "regex_pattern", "replace", "case_insensitive", "multiline", "dotall", "count"), ("text",)),
    Entry("RegexExtract", "basic.regex_extract",
          ("string", "regex_pattern", "mode", "case_insensitive", "multiline", "dotall", "group_index"),
          _same("string", "regex_pattern", "mode", "case_insensitive", "multiline", "dotall", "group_index"),
          ("text",)),
    Entry("CameraAngle", "basic.camera_angle", ("horizontal_angle", "vertical_angle", "zoom", SHOWN),
          _same("horizontal_angle", "vertical_angle", "zoom", "image"), (None, "prompt")),  # SHOWN: its 3D view
    Entry("JsonExtractString", "basic.json_extract", ("json_string", "key"), _same("json_string", "key"), ("text",)),
    Entry("ComfyMathExpression", "basic.expression", ("expression",),
          {"expression": "expression"} | {f"values.{name}": name for name in "abcdefgh"}, ("float", "int", "bool")),
    Entry("ComfyNumberConvert", "basic.number_convert", (), _same("value"), ("float", "int")),
    Entry("ResolutionSelector", "image.resolution_selector", ("aspect_ratio", "megapixels", "multiple"),
          _same("aspect_ratio", "megapixels", "multiple"), ("width", "height")),
    Entry("GetImageSize", "image.get_size", (), _same("image"), ("width", "height", "batch_size")),
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
    Entry("JoinImageWithAlpha", "image.join_alpha", (), _same("image", "alpha"), ("image",)),
    Entry("ImageStitch", "image.stitch", ("direction", "match_image_size", "spacing_width", "spacing_color"),
          _same("image1", "image2", "direction", "match_image_size", "spacing_width", "spacing_color"), ("image",)),
    Entry("BatchImagesNode", "image.batch_many", (), {f"images.image{n}": f"image{n}" for n in range(16)},
          ("image",)),
    Entry("Canny", "image.canny", ("low_threshold", "high_threshold"),
          _same("image", "low_threshold", "high_threshold"), ("image",)),
    Entry("ImageCompare", "image.compare", (SHOWN,), _same("image_a", "image_b"), ()),
    Entry("MaskPreview", "mask.preview", (), _same("mask"), ("mask",)),
    Entry("SaveImageAdvanced", "image.save_advanced", ("filename_prefix", "format", "bit_depth", "input_color_space"),
          _same("images", "filename_prefix", "format", "bit_depth", "input_color_space"), ("images",)),
    Entry("SaveText", "basic.save_text", ("filename_prefix", "format"), _same("text", "filename_prefix", "format"),
          ("text",)),
    Entry("ManualSigmas", "sampling.manual_sigmas", ("sigmas",), _same("sigmas"), ("sigmas",)),
    # models
    Entry("CheckpointLoaderSimple", "models.load_checkpoint", ("ckpt_name",), {"ckpt_name": "checkpoint"},
          ("model", "clip", "vae")),
    Entry("VAELoader", "models.load_vae", ("vae_name",), {"vae_name": "vae"}, ("vae",),
          values=convert.vae_loader_values),
    Entry("UNETLoader", "models.load_unet", ("unet_name", "weight_dtype"),
          {"unet_name": "unet", "weight_dtype": "weight_dtype"}, ("model",), values=convert.unet_loader_values),
    Entry("CLIPLoader", "models.load_clip", ("clip_name", "type", "device"),
          {"clip_name": "clip_name", "type": "type", "device": "device"}, ("clip",),
          values=convert.clip_loader_values, export=convert.clip_loader_export),
    Entry("DualCLIPLoader", "models.load_clip", ("clip_name1", "clip_name2", "type", "device"),
          {"clip_name1": "clip_name", "clip_name2": "clip_name_2", "type": "type", "device": "device"}, ("clip",),
          values=convert.clip_loader_values),
    Entry("TripleCLIPLoader", "models.load_clip", ("clip_name1", "clip_name2", "clip_name3"),
          {"clip_name1": "clip_name", "clip_name2": "clip_name_2", "clip_name3": "clip_name_3"}, ("clip",),
          fixed={"family": "sd3"}),
    Entry("TextEncodeQwenImageEdit", "qwen_image.text_encode_edit", ("prompt",),
          {"clip": "clip", "prompt": "prompt", "vae": "vae", "image": "image"}, ("conditioning",)),
    Entry("TextEncodeQwenImageEditPlus", "qwen_image.text_encode_edit_plus", ("prompt",),
          {"clip": "clip", "prompt": "prompt", "vae": "vae", "image1": "image1", "image2": "image2",
           "image3": "image3"}, ("conditioning",)),
    Entry("TextEncodeQwenImage21", "qwen_image21.text_encode", ("prompt", "negative_prompt", "resolution"),
          _same("clip", "prompt", "negative_prompt", "vae", "resolution") | {f"images.image_{n}": f"image_{n}"
                                                                              for n in range(1, 17)},
          ("positive", "negative", "latent")),
    Entry("QwenImage21Cache", "qwen_image21.cache", ("device", "dtype"), _same("model", "device", "dtype"), ("model",)),
    # ComfyUI-GGUF's loaders: the same loaders, their files GGUF (kept quantized: nodes.models._quantized)
    Entry("UnetLoaderGGUF", "models.load_unet", ("unet_name",), {"unet_name": "unet"}, ("model",)),
    Entry("CLIPLoaderGGUF", "models.load_clip", ("clip_name", "type"), {"clip_name": "clip_name", "type": "type"},
          ("clip",), values=convert.clip_loader_values),
    Entry("DualCLIPLoaderGGUF", "models.load_clip", ("clip_name1", "clip_name2", "type"),
          {"clip_name1": "clip_name", "clip_name2": "clip_name_2", "type": "type"}, ("clip",),
          values=convert.clip_loader_values),
    Entry("TripleCLIPLoaderGGUF", "models.load_clip", ("clip_name1", "clip_name2", "clip_name3"),
          {"clip_name1": "clip_name", "clip_name2": "clip_name_2", "clip_name3": "clip_name_3"}, ("clip",),
          fixed={"family": "sd3"}),
    Entry("ModelSamplingFlux", "models.model_sampling_flux", ("max_shift", "base_shift", "width", "height"),
          {"model": "model", "max_shift": "max_shift", "base_shift": "base_shift", "width": "width",
           "height": "height"}, ("model",)),
    Entry("ModelSamplingSD3", "models.model_sampling_sd3", ("shift",), {"model": "model", "shift": "shift"},
          ("model",)),
    Entry("ModelSamplingAuraFlow", "models.model_sampling_aura_flow", ("shift", "sampling"),
          _same("model", "shift", "sampling"), ("model",), values=convert_data.aura_flow_values),
    Entry("ModelAttentionBackend", "models.attention_backend", ("attention",), _same("model", "attention"),
          ("model",), values=convert_data.attention_backend_values),
    Entry("LoraLoader", "models.load_lora", ("lora_name", "strength_model", "strength_clip"),
          {"model": "model", "clip": "clip", "lora_name": "lora", "strength_model": "strength_model",
           "strength_clip": "strength_clip"}, ("model", "clip")),
    # conditioning
    Entry("FluxGuidance", "flux.guidance", ("guidance",), {"conditioning": "conditioning", "guidance": "guidance"},
          ("conditioning",)),
    Entry("CLIPTextEncodeFlux", "flux.text_encode", ("clip_l", "t5xxl", "guidance"),
          {"clip": "clip", "clip_l": "clip_l", "t5xxl": "t5xxl", "guidance": "guidance"}, ("conditioning",)),
    Entry("CLIPTextEncodeSD3", "sd3.text_encode", ("clip_l", "clip_g", "t5xxl", "empty_padding"),
          {"clip": "clip", "clip_l": "clip_l", "clip_g": "clip_g", "t5xxl": "t5xxl", "empty_padding": "empty_padding"},
          ("conditioning",)),
    Entry("InpaintModelConditioning", "conditioning.inpaint_model", ("noise_mask",),
          {"positive": "positive", "negative": "negative", "vae": "vae", "pixels": "pixels", "mask": "mask",
           "noise_mask": "noise_mask"}, ("positive", "negative", "latent")),
    Entry("DifferentialDiffusion", "sampling.differential_diffusion", ("strength",),
          {"model": "model", "strength": "strength"}, ("model",)),
    Entry("CFGNorm", "sampling.cfg_norm", ("strength", "pre_cfg"), _same("model", "strength", "pre_cfg"), ("model",)),
    Entry("InstructPixToPixConditioning", "conditioning.control_picture", (),
          {"positive": "positive", "negative": "negative", "vae": "vae", "pixels": "pixels"},
          ("positive", "negative", "latent")),
    Entry("T5TokenizerOptions", "conditioning.t5_tokenizer_options", ("min_padding", "min_length"),
          {"clip": "clip", "min_padding": "min_padding", "min_length": "min_length"}, ("clip",)),
    Entry("ReferenceLatent", "flux.reference_latent", (), {"conditioning": "conditioning", "latent": "latent"},
          ("conditioning",)),
    Entry("FluxKontextImageScale", "flux.kontext_image_scale", (), {"image": "image"}, ("image",)),
    Entry("FluxKontextMultiReferenceLatentMethod", "flux.reference_method", ("reference_latents_method",),
          {"conditioning": "conditioning", "reference_latents_method": "reference_latents_method"}, ("conditioning",)),
    Entry("SkipLayerGuidanceSD3", "sd3.skip_layer_guidance", ("layers", "scale", "start_percent", "end_percent"),
          {k: k for k in ("model", "layers", "scale", "start_percent", "end_percent")}, ("model",)),
    Entry("CLIPSetLastLayer", "conditioning.clip_set_last_layer", ("stop_at_clip_layer",),
          {"clip": "clip", "stop_at_clip_layer": "stop_at_clip_layer"}, ("clip",)),
    Entry("CLIPTextEncode", "conditioning.text_encode", ("text",), {"clip": "clip", "text": "text"},
          ("conditioning",), fixed={"long_prompt": "chunk"}),
    Entry("ConditioningCombine", "conditioning.combine", (),
          {"conditioning_1": "conditioning_1", "conditioning_2": "conditioning_2"}, ("conditioning",)),
    Entry("ConditioningConcat", "conditioning.concat", (),
          {"conditioning_to": "conditioning_to", "conditioning_from": "conditioning_from"}, ("conditioning",)),
    Entry("ConditioningAverage", "conditioning.average", ("conditioning_to_strength",),
          {"conditioning_to": "conditioning_to", "conditioning_from": "conditioning_from",
           "conditioning_to_strength": "to_strength"}, ("conditioning",)),
    Entry("ConditioningZeroOut", "conditioning.zero_out", (), {"conditioning": "conditioning"}, ("conditioning",)),
    Entry("ConditioningSetArea", "conditioning.set_area", ("width", "height", "x", "y", "strength"),
          {"conditioning": "conditioning", "width": "width", "height": "height", "x": "x", "y": "y",
           "strength": "strength"}, ("conditioning",)),
    Entry("ConditioningSetMask", "conditioning.set_mask", ("strength", "set_cond_area"),
          {"conditioning": "conditioning", "mask": "mask", "strength": "strength", "set_cond_area": "area"},
          ("conditioning",)),
    Entry("ConditioningSetTimestepRange", "conditioning.set_timestep_range", ("start", "end"),
          {"conditioning": "conditioning", "start": "start", "end": "end"}, ("conditioning",)),
    # latent
    Entry("EmptyLatentImage", "latent.empty", ("width", "height", "batch_size"),
          {"width": "width", "height": "height", "batch_size": "batch_size"}, ("latent",)),
    Entry("EmptySD3LatentImage", "latent.empty", ("width", "height", "batch_size"),
          {"width": "width", "height": "height", "batch_size": "batch_size"}, ("latent",)),
    Entry("EmptyFlux2LatentImage", "latent.empty", ("width", "height", "batch_size"),
          _same("width", "height", "batch_size"), ("latent",)),
    Entry("LatentUpscaleBy", "latent.upscale", ("upscale_method", "scale_by"),
          {"samples": "latent", "upscale_method": "method", "scale_by": "scale_by"}, ("latent",),
          values=convert.latent_upscale_method),
    Entry("LatentUpscale", "latent.upscale_to", ("upscale_method", "width", "height", "crop"),
          {"samples": "latent", "upscale_method": "method", "width": "width", "height": "height", "crop": "crop"},
          ("latent",), values=convert.latent_upscale_method),
    Entry("SetLatentNoiseMask", "latent.set_noise_mask", (), {"samples": "latent", "mask": "mask"}, ("latent",)),
    # sampling
    Entry("KSampler", "sampling.sampler",
          ("seed", CONTROL, "steps", "cfg", "sampler_name", "scheduler", "denoise"), _SAMPLER_INPUTS,
          ("latent",), values=convert.ksampler_values, export=convert.ksampler_export),
    Entry("KSamplerAdvanced", "sampling.sampler_advanced",
          ("add_noise", "noise_seed", CONTROL, "steps", "cfg", "sampler_name", "scheduler", "start_at_step",
           "end_at_step", "return_with_leftover_noise"),
          {"model": "model", "positive": "positive", "negative": "negative", "latent_image": "latent_image",
           "add_noise": "add_noise", "noise_seed": "noise_seed", "steps": "steps", "cfg": "cfg",
           "sampler_name": "sampler_name", "scheduler": "scheduler", "start_at_step": "start_at_step",
           "end_at_step": "end_at_step", "return_with_leftover_noise": "return_with_leftover_noise"},
          ("latent",), values=convert.advanced_sampler_values, export=convert.advanced_sampler_export),
    Entry("SamplerCustom", "sampling.sampler_custom", ("add_noise", "noise_seed", CONTROL, "cfg"),
          {"model": "model", "positive": "positive", "negative": "negative", "sampler": "sampler", "sigmas": "sigmas",
           "latent_image": "latent_image", "add_noise": "add_noise", "noise_seed": "noise_seed", "cfg": "cfg"},
          ("latent", None)),
    Entry("SamplerCustomAdvanced", "sampling.sample", (),
          {"noise": "noise", "guider": "guider", "sampler": "sampler", "sigmas": "sigmas",
           "latent_image": "latent_image"}, ("latent", None)),
    Entry("RandomNoise", "noise.random", ("noise_seed", CONTROL), {"noise_seed": "seed"}, ("noise",)),
    Entry("DisableNoise", "noise.disable", (), {}, ("noise",)),
    Entry("CFGGuider", "sampling.cfg_guider", ("cfg",),
          {"model": "model", "positive": "positive", "negative": "negative", "cfg": "cfg"}, ("guider",)),
    Entry("BasicGuider", "sampling.basic_guider", (), {"model": "model", "conditioning": "conditioning"},
          ("guider",)),
    Entry("KSamplerSelect", "sampling.sampler_select", ("sampler_name",), {"sampler_name": "sampler_name"},
          ("sampler",), values=convert.sampler_names),
    Entry("BasicScheduler", "sampling.scheduler", ("scheduler", "steps", "denoise"),
          {"model": "model", "scheduler": "scheduler", "steps": "steps", "denoise": "denoise"}, ("sigmas",),
          values=convert.ksampler_values, export=convert.ksampler_export),
    Entry("SDTurboScheduler", "sampling.sd_turbo_scheduler", ("steps", "denoise"), _same("model", "steps", "denoise"),
          ("sigmas",)),
    Entry("KarrasScheduler", "sampling.karras_scheduler", ("steps", "sigma_max", "sigma_min", "rho"),
          {"steps": "steps", "sigma_max": "sigma_max", "sigma_min": "sigma_min", "rho": "rho"}, ("sigmas",)),
    Entry("ExponentialScheduler", "sampling.exponential_scheduler", ("steps", "sigma_max", "sigma_min"),
          {"steps": "steps", "sigma_max": "sigma_max", "sigma_min": "sigma_min"}, ("sigmas",)),
    Entry("Flux2Scheduler", "flux2.scheduler", ("steps", "width", "height"), _same("steps", "width", "height"),
          ("sigmas",)),
    Entry("SplitSigmas", "sampling.split_sigmas", ("step",), {"sigmas": "sigmas", "step": "step"},
          ("high_sigmas", "low_sigmas")),
    # vae
    Entry("VAEDecode", "vae.decode", (), {"samples": "latent", "vae": "vae"}, ("image",)),
    Entry("VAEEncode", "vae.encode", (), {"pixels": "pixels", "vae": "vae"}, ("latent",)),
    Entry("VAEDecodeTiled", "vae.decode_tiled", _TILED, {"samples": "latent", "vae": "vae"} | _same(*_TILED),
          ("image",)),
    Entry("VAEEncodeTiled", "vae.encode_tiled", _TILED, {"pixels": "pixels", "vae": "vae"} | _same(*_TILED),
          ("latent",)),
    Entry("VAEEncodeForInpaint", "vae.encode_inpaint", ("grow_mask_by",),
          {"pixels": "pixels", "vae": "vae", "mask": "mask", "grow_mask_by": "grow_mask_by"}, ("latent",),
          values=convert.inpaint_encode_values),
    # image
    Entry("LoadImage", "image.load", ("image", UPLOAD), {"image": "image"}, ("image", "mask")),
    Entry("SaveImage", "image.save", ("filename_prefix",), {"images": "images", "filename_prefix": "filename_prefix"},
          (), values=convert.eight_bit),
    Entry("PreviewImage", "image.preview", (), {"images": "images"}, (), values=convert.eight_bit),
    Entry("ImageScale", "image.scale", ("upscale_method", "width", "height", "crop"),
          {"image": "image", "upscale_method": "method", "width": "width", "height": "height", "crop": "crop"},
          ("image",)),
    Entry("ImageScaleBy", "image.scale_by", ("upscale_method", "scale_by"),
          {"image": "image", "upscale_method": "method", "scale_by": "scale_by"}, ("image",)),
    Entry("ImageInvert", "image.invert", (), {"image": "image"}, ("image",)),
    Entry("ImageCompositeMasked", "image.composite_masked", ("x", "y", "resize_source"),
          {"destination": "destination", "source": "source", "x": "x", "y": "y", "mask": "mask",
           "resize_source": "resize_source"}, ("image",),
          values=convert.composite_values, export=convert.composite_export),
    # mask
    Entry("InvertMask", "mask.invert", (), {"mask": "mask"}, ("mask",)),
    Entry("MaskToImage", "mask.to_image", (), {"mask": "mask"}, ("image",)),
    Entry("ImageToMask", "mask.from_image", ("channel",), {"image": "image", "channel": "channel"}, ("mask",),
          values=convert.image_to_mask_channel),
    # the node set of issue 12: SDXL prompts, batches, layout, masks, upscale models, ControlNet
    Entry("CLIPTextEncodeSDXL", "conditioning.text_encode_sdxl",
          ("width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g", "text_l"),
          {"clip": "clip", "width": "width", "height": "height", "crop_w": "crop_w", "crop_h": "crop_h",
           "target_width": "target_width", "target_height": "target_height", "text_g": "text_g",
           "text_l": "text_l"}, ("conditioning",)),
    Entry("LoraLoaderModelOnly", "models.load_lora_model_only", ("lora_name", "strength_model"),
          {"model": "model", "lora_name": "lora", "strength_model": "strength_model"}, ("model",)),
    Entry("LatentBatch", "latent.batch", (), {"samples1": "latent_1", "samples2": "latent_2"}, ("latent",)),
    Entry("RepeatLatentBatch", "latent.repeat_batch", ("amount",), {"samples": "latent", "amount": "amount"},
          ("latent",)),
    Entry("LatentFromBatch", "latent.from_batch", ("batch_index", "length"),
          {"samples": "latent", "batch_index": "batch_index", "length": "length"}, ("latent",)),
    Entry("LatentComposite", "latent.composite", ("x", "y", "feather"),
          {"samples_to": "destination", "samples_from": "source", "x": "x", "y": "y", "feather": "feather"},
          ("latent",)),
    Entry("ImageCrop", "image.crop", ("width", "height", "x", "y"),
          {"image": "image", "width": "width", "height": "height", "x": "x", "y": "y"}, ("image",)),
    Entry("ImagePadForOutpaint", "image.pad_for_outpaint", ("left", "top", "right", "bottom", "feathering"),
          {"image": "image", "left": "left", "top": "top", "right": "right", "bottom": "bottom",
           "feathering": "feathering"}, ("image", "mask")),
    Entry("ImageBatch", "image.batch", (), {"image1": "image_1", "image2": "image_2"}, ("image",)),
    Entry("GrowMask", "mask.grow", ("expand", "tapered_corners"),
          {"mask": "mask", "expand": "expand", "tapered_corners": "tapered_corners"}, ("mask",)),
    Entry("FeatherMask", "mask.feather", ("left", "top", "right", "bottom"),
          {"mask": "mask", "left": "left", "top": "top", "right": "right", "bottom": "bottom"}, ("mask",)),
    Entry("MaskComposite", "mask.composite", ("x", "y", "operation"),
          {"destination": "destination", "source": "source", "x": "x", "y": "y", "operation": "operation"},
          ("mask",)),
    Entry("UpscaleModelLoader", "models.load_upscale_model", ("model_name",), {"model_name": "model_name"},
          ("upscale_model",)),
    Entry("ImageUpscaleWithModel", "image.upscale_with_model", (),
          {"upscale_model": "upscale_model", "image": "image"}, ("image",)),
    Entry("ControlNetLoader", "models.load_controlnet", ("control_net_name",),
          {"control_net_name": "control_net"}, ("control_net",)),
    Entry("ControlNetApplyAdvanced", "conditioning.apply_controlnet", ("strength", "start_percent", "end_percent"),
          {"positive": "positive", "negative": "negative", "control_net": "control_net", "image": "image",
           "vae": "vae", "strength": "strength", "start_percent": "start", "end_percent": "end"},
          ("positive", "negative")),
    Entry("ControlNetApply", "conditioning.apply_controlnet", ("strength",),
          {"conditioning": "positive", "control_net": "control_net", "image": "image", "strength": "strength"},
          ("positive",)),
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


