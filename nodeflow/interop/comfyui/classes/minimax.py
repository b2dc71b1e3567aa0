"""MiniMax H3 (video + soundtrack): its conditioning nodes and the audio VAE decode (`nodes.minimax_h3`,
`nodes.audio.vae`).

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`. Widget
orders are read off ComfyUI's comfy_extras/nodes_minimax_h3.py and the official templates.
"""

from __future__ import annotations

from nodeflow.interop.comfyui.classes.entry import Entry, same

MINIMAX: tuple[Entry, ...] = (
    Entry("MiniMaxH3ImageToVideo", "minimax_h3.image_to_video", ("prompt", "width", "height", "length"),
          same("clip", "vae", "prompt", "width", "height", "length", "first_frame", "last_frame"),
          ("positive", "latent")),
    Entry("MiniMaxH3AddGuide", "minimax_h3.add_guide", ("frame_idx",),
          same("positive", "vae", "audio_vae", "latent", "image", "audio", "frame_idx"), ("positive",)),
    Entry("VAEDecodeAudio", "audio.vae_decode", (), same("samples", "vae"), ("audio",)),
)
