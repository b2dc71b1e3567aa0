"""Prompts and conditioning: text encoders' nodes per family, references, guidance values.

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`.
"""

from __future__ import annotations

from nodeflow.interop.comfyui.classes.entry import Entry, same

CONDITIONING: tuple[Entry, ...] = (
    # conditioning
    Entry("FluxGuidance", "flux.guidance", ("guidance",), {"conditioning": "conditioning", "guidance": "guidance"},
          ("conditioning",)),
    Entry("CLIPTextEncodeFlux", "flux.text_encode", ("clip_l", "t5xxl", "guidance"),
          {"clip": "clip", "clip_l": "clip_l", "t5xxl": "t5xxl", "guidance": "guidance"}, ("conditioning",),
          fixed={"long_prompt": "chunk"}),
    Entry("CLIPTextEncodeSD3", "sd3.text_encode", ("clip_l", "clip_g", "t5xxl", "empty_padding"),
          {"clip": "clip", "clip_l": "clip_l", "clip_g": "clip_g", "t5xxl": "t5xxl", "empty_padding": "empty_padding"},
          ("conditioning",), fixed={"long_prompt": "chunk"}),
    Entry("InpaintModelConditioning", "conditioning.inpaint_model", ("noise_mask",),
          {"positive": "positive", "negative": "negative", "vae": "vae", "pixels": "pixels", "mask": "mask",
           "noise_mask": "noise_mask"}, ("positive", "negative", "latent")),
    Entry("DifferentialDiffusion", "sampling.differential_diffusion", ("strength",),
          {"model": "model", "strength": "strength"}, ("model",)),
    Entry("CFGNorm", "sampling.cfg_norm", ("strength", "pre_cfg"), same("model", "strength", "pre_cfg"), ("model",)),
    Entry("RenormCFG", "sampling.renorm_cfg", ("cfg_trunc", "renorm_cfg"), same("model", "cfg_trunc", "renorm_cfg"),
          ("model",)),
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
)
