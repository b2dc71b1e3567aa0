"""FLUX.3 [klein]: its layout prompt and its reference pictures (ComfyUI's Flux3LayoutPrompt,
ReferenceMultiLatent; its text encoder is CLIPLoader's type "flux3", declared by the family).

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`.
"""

from __future__ import annotations

from nodeflow.interop.comfyui.classes.entry import Entry, same

#: ReferenceMultiLatent's picture sockets (ComfyUI's growing `images` group) -> NodeFlow's inputs.
_IMAGES = {f"images.image{n}": f"image{n}" for n in range(10)}

FLUX3: tuple[Entry, ...] = (
    Entry("Flux3LayoutPrompt", "flux3.layout_prompt", ("prompt",), same("prompt", "element"), ("prompt",)),
    Entry("ReferenceMultiLatent", "flux3.reference_multi_latent", ("resolution",),
          same("positive", "negative", "vae", "resolution") | {"resolution.megapixels": "megapixels"} | _IMAGES,
          ("positive", "negative", "empty_latent"), variants=("resolution", {"resize": ("resolution.megapixels",)})),
)
