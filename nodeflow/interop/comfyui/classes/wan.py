"""Wan 2.1 / 2.2 (video): its image-to-video conditioning and the empty video latent its text-to-video
templates start from (`nodes.wan.video`, `nodes.latent.video`).

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`. Widget
orders are read off ComfyUI's comfy_extras/nodes_wan.py and nodes_hunyuan.py. Wan Image To Video's
clip_vision_output (Wan 2.1's start picture through CLIP vision) and First-Last Frame's
clip_vision_start_image / clip_vision_end_image (Wan 2.1 FLF2V's two pictures) map.
"""

from __future__ import annotations

from nodeflow.interop.comfyui.classes.entry import Entry, same

_SIZES = ("width", "height", "length", "batch_size")
_CONDITIONING = ("positive", "negative", "latent")

WAN: tuple[Entry, ...] = (
    Entry("EmptyHunyuanLatentVideo", "latent.empty_video", _SIZES, same(*_SIZES), ("latent",)),
    Entry("WanImageToVideo", "wan.image_to_video", _SIZES,
          same("positive", "negative", "vae", *_SIZES, "start_image", "ref_pad_image", "clip_vision_output"),
          _CONDITIONING),
    Entry("Wan22ImageToVideoLatent", "wan.image_to_video_latent", _SIZES, same("vae", *_SIZES, "start_image"),
          ("latent",)),
    Entry("WanFirstLastFrameToVideo", "wan.first_last_frame_to_video", _SIZES,
          same("positive", "negative", "vae", *_SIZES, "start_image", "end_image", "clip_vision_start_image",
               "clip_vision_end_image"), _CONDITIONING),
)
