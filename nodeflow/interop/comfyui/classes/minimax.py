"""MiniMax H3 (video + soundtrack): its conditioning nodes and the audio VAE decode (`nodes.minimax_h3`,
`nodes.audio.vae`).

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`. Widget
orders are read off ComfyUI's comfy_extras/nodes_minimax_h3.py and the official templates.
"""

from __future__ import annotations

from nodeflow.interop.comfyui.classes.entry import Entry, same

#: ComfyUI's reference slot groups of MiniMaxH3ReferenceToVideo (`ref_images.ref_image_0`, ...) and their sizes.
REFERENCE_SLOTS = (("ref_image", 9), ("ref_video", 3), ("ref_video_audio", 3), ("ref_audio", 3))

MINIMAX: tuple[Entry, ...] = (
    Entry("MiniMaxH3ImageToVideo", "minimax_h3.image_to_video", ("prompt", "width", "height", "length"),
          same("clip", "vae", "prompt", "width", "height", "length", "first_frame", "last_frame"),
          ("positive", "latent")),
    Entry("MiniMaxH3ReferenceToVideo", "minimax_h3.reference_to_video",
          ("prompt", "width", "height", "length", "ref_image_size"),
          same("clip", "vae", "audio_vae", "prompt", "width", "height", "length", "ref_image_size")
          | {f"{name}s.{name}_{n}": f"{name}_{n}" for name, count in REFERENCE_SLOTS for n in range(count)},
          ("positive", "latent")),
    Entry("MiniMaxH3AddGuide", "minimax_h3.add_guide", ("frame_idx",),
          same("positive", "vae", "audio_vae", "latent", "image", "audio", "frame_idx"), ("positive",)),
    Entry("MiniMaxH3SigmaShift", "minimax_h3.sigma_shift", ("shift", "audio_shift"),
          same("model", "shift", "audio_shift"), ("model",)),
    Entry("VAEDecodeAudio", "audio.vae_decode", (), same("samples", "vae"), ("audio",)),
)
