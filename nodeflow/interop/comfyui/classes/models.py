"""Loaders: checkpoints, single files, text encoders, VAEs, LoRAs and ComfyUI-GGUF's loaders, and the
nodes that patch a loaded model.

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`.
"""

from __future__ import annotations

from nodeflow.interop.comfyui import convert, convert_data
from nodeflow.interop.comfyui.classes.entry import Entry, same

MODELS: tuple[Entry, ...] = (
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
    Entry("QuadrupleCLIPLoader", "models.load_clip", ("clip_name1", "clip_name2", "clip_name3", "clip_name4"),
          {"clip_name1": "clip_name", "clip_name2": "clip_name_2", "clip_name3": "clip_name_3",
           "clip_name4": "clip_name_4"}, ("clip",), fixed={"family": "hidream"}),
    Entry("TextEncodeQwenImageEdit", "qwen_image.text_encode_edit", ("prompt",),
          {"clip": "clip", "prompt": "prompt", "vae": "vae", "image": "image"}, ("conditioning",)),
    Entry("TextEncodeQwenImageEditPlus", "qwen_image.text_encode_edit_plus", ("prompt",),
          {"clip": "clip", "prompt": "prompt", "vae": "vae", "image1": "image1", "image2": "image2",
           "image3": "image3"}, ("conditioning",)),
    Entry("TextEncodeQwenImage21", "qwen_image21.text_encode", ("prompt", "negative_prompt", "resolution"),
          same("clip", "prompt", "negative_prompt", "vae", "resolution") | {f"images.image_{n}": f"image_{n}"
                                                                              for n in range(1, 17)},
          ("positive", "negative", "latent")),
    Entry("FluxKVCache", "flux2.kv_cache", (), same("model"), ("model",)),
    Entry("QwenImage21Cache", "qwen_image21.cache", ("device", "dtype"), same("model", "device", "dtype"), ("model",)),
    Entry("CLIPTextEncodeLumina2", "lumina2.text_encode", ("system_prompt", "user_prompt"),
          same("clip", "system_prompt", "user_prompt"), ("conditioning",), fixed={"long_prompt": "chunk"}),
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
          same("model", "shift", "sampling"), ("model",), values=convert_data.aura_flow_values),
    Entry("ModelAttentionBackend", "models.attention_backend", ("attention",), same("model", "attention"),
          ("model",), values=convert_data.attention_backend_values),
    Entry("BlockSparseAttention", "models.block_sparse_attention",
          ("selection", "start_percent", "end_percent", "dense_blocks", "min_tokens", "extra_tokens",
           "sink_conditioning", "verbose"),
          same("model", "selection", "start_percent", "end_percent", "dense_blocks", "min_tokens", "extra_tokens",
               "sink_conditioning", "verbose") | {"selection.keep_percent": "keep_percent", "selection.tau": "tau"},
          ("model",), variants=("selection", {"vsa": ("selection.keep_percent",), "sla": ("selection.keep_percent",),
                                              "sol-attn": ("selection.tau",)}),
          values=convert_data.block_sparse_values),
    Entry("LoraLoader", "models.load_lora", ("lora_name", "strength_model", "strength_clip"),
          {"model": "model", "clip": "clip", "lora_name": "lora", "strength_model": "strength_model",
           "strength_clip": "strength_clip"}, ("model", "clip")),
)
