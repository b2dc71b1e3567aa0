"""Sound models (Stable Audio 3): the blank sound latent (`nodes.audio.latent`). Stable Audio's text encoder
loads through CLIPLoader's type `stable_audio` (`Family.comfy_clip_types`) and decodes through
VAEDecodeAudio (`classes.minimax`, the one entry for every audio VAE).

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`. Widget orders
are read off ComfyUI's comfy_extras/nodes_audio.py and the official templates.
"""

from __future__ import annotations

from nodeflow.interop.comfyui.classes.entry import Entry, same

AUDIO: tuple[Entry, ...] = (
    Entry("EmptyLatentAudio", "audio.empty_latent", ("seconds", "batch_size"), same("seconds", "batch_size"),
          ("latent",)),
)
