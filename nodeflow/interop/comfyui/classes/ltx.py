"""LTX-2 (video + audio): its latents, conditioning, audio VAE and loaders (`nodes.ltx2`).

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`. Widget
orders are read off ComfyUI's comfy_extras/nodes_lt.py and nodes_lt_audio.py.
"""

from __future__ import annotations

from nodeflow.interop.comfyui import convert_data
from nodeflow.interop.comfyui.classes.entry import Entry, same

LTX: tuple[Entry, ...] = (
    Entry("EmptyLTXVLatentVideo", "ltx2.empty_latent_video", ("width", "height", "length", "batch_size"),
          same("width", "height", "length", "batch_size"), ("latent",)),
    Entry("LTXVEmptyLatentAudio", "ltx2.empty_latent_audio", ("frames_number", "frame_rate", "batch_size"),
          same("frames_number", "frame_rate", "batch_size", "audio_vae"), ("latent",)),
    Entry("LTXVConcatAVLatent", "ltx2.concat_av_latent", (), same("video_latent", "audio_latent"), ("latent",)),
    Entry("LTXVSeparateAVLatent", "ltx2.separate_av_latent", (), same("av_latent"),
          ("video_latent", "audio_latent")),
    Entry("LTXVConditioning", "ltx2.conditioning", ("frame_rate",), same("positive", "negative", "frame_rate"),
          ("positive", "negative")),
    Entry("LTXVCropGuides", "ltx2.crop_guides", (), same("positive", "negative", "latent"),
          ("positive", "negative", "latent")),
    Entry("LTXVAddGuide", "ltx2.add_guide", ("frame_idx", "strength"),
          same("positive", "negative", "vae", "latent", "image", "frame_idx", "strength"),
          ("positive", "negative", "latent"), values=convert_data.ltx_guide_values),
    Entry("LTXVPreprocess", "ltx2.preprocess", ("img_compression",), same("image", "img_compression"),
          ("output_image",)),
    Entry("LTXVImgToVideoInplace", "ltx2.img_to_video_inplace", ("strength", "bypass"),
          same("vae", "image", "latent", "strength", "bypass"), ("latent",)),
    Entry("LatentUpscaleModelLoader", "ltx2.load_latent_upscale_model", ("model_name",), same("model_name"),
          ("latent_upscale_model",)),
    Entry("LTXVLatentUpsampler", "ltx2.latent_upsampler", (), same("samples", "upscale_model", "vae"), ("latent",)),
    Entry("LTXVScheduler", "ltx2.scheduler", ("steps", "max_shift", "base_shift", "stretch", "terminal"),
          same("steps", "max_shift", "base_shift", "stretch", "terminal", "latent"), ("sigmas",)),
    Entry("LTXAVTextEncoderLoader", "ltx2.load_text_encoder", ("text_encoder", "ckpt_name", "device"),
          same("text_encoder", "ckpt_name", "device"), ("clip",)),
    Entry("LTXVAudioVAELoader", "ltx2.load_audio_vae", ("ckpt_name",), same("ckpt_name"), ("audio_vae",)),
    Entry("LTXVAudioVAEDecode", "ltx2.audio_vae_decode", (), same("samples", "audio_vae"), ("audio",)),
    Entry("LTXVDualCFGGuider", "ltx2.dual_cfg_guider", ("video_cfg", "audio_cfg"),
          same("model", "positive", "negative", "video_cfg", "audio_cfg"), ("guider",)),
)
