"""The node set of issue 12: SDXL prompts, batches, layout, masks, upscale models, ControlNet.

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`.
"""

from __future__ import annotations

from nodeflow.interop.comfyui.classes.entry import Entry

SD_EXTRAS: tuple[Entry, ...] = (
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
    Entry("ControlNetInpaintingAliMamaApply", "conditioning.apply_inpaint_controlnet",
          ("strength", "start_percent", "end_percent"),
          {"positive": "positive", "negative": "negative", "control_net": "control_net", "vae": "vae",
           "image": "image", "mask": "mask", "strength": "strength", "start_percent": "start",
           "end_percent": "end"}, ("positive", "negative")),
    Entry("ControlNetApply", "conditioning.apply_controlnet", ("strength",),
          {"conditioning": "positive", "control_net": "control_net", "image": "image", "strength": "strength"},
          ("positive",)),
)
