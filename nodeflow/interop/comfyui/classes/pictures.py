"""VAE encode/decode, pictures and masks.

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`.
"""

from __future__ import annotations

from nodeflow.interop.comfyui import convert
from nodeflow.interop.comfyui.classes.entry import UPLOAD, Entry, same

#: VAEDecodeTiled's and VAEEncodeTiled's widgets, in their saved order (nodes.py).
_TILED = ("tile_size", "overlap", "temporal_size", "temporal_overlap")

PICTURES: tuple[Entry, ...] = (
    # vae
    Entry("VAEDecode", "vae.decode", (), {"samples": "latent", "vae": "vae"}, ("image",)),
    Entry("VAEEncode", "vae.encode", (), {"pixels": "pixels", "vae": "vae"}, ("latent",)),
    Entry("VAEDecodeTiled", "vae.decode_tiled", _TILED, {"samples": "latent", "vae": "vae"} | same(*_TILED),
          ("image",)),
    Entry("VAEEncodeTiled", "vae.encode_tiled", _TILED, {"pixels": "pixels", "vae": "vae"} | same(*_TILED),
          ("latent",)),
    Entry("VAEEncodeForInpaint", "vae.encode_inpaint", ("grow_mask_by",),
          {"pixels": "pixels", "vae": "vae", "mask": "mask", "grow_mask_by": "grow_mask_by"}, ("latent",),
          values=convert.inpaint_encode_values),
    # image
    Entry("LoadImage", "image.load", ("image", UPLOAD), {"image": "image"}, ("image", "mask")),
    Entry("SaveImage", "image.save", ("filename_prefix",), {"images": "images", "filename_prefix": "filename_prefix"},
          ("images",), values=convert.eight_bit),
    Entry("PreviewImage", "image.preview", (), {"images": "images"}, (), values=convert.eight_bit),
    Entry("ImageScale", "image.scale", ("upscale_method", "width", "height", "crop"),
          {"image": "image", "upscale_method": "method", "width": "width", "height": "height", "crop": "crop"},
          ("image",)),
    Entry("ImageScaleBy", "image.scale_by", ("upscale_method", "scale_by"),
          {"image": "image", "upscale_method": "method", "scale_by": "scale_by"}, ("image",)),
    Entry("ImageInvert", "image.invert", (), {"image": "image"}, ("image",)),
    Entry("ImageBlur", "image.blur", ("blur_radius", "sigma"),
          {"image": "image", "blur_radius": "radius", "sigma": "sigma"}, ("image",)),
    Entry("ImageCompositeMasked", "image.composite_masked", ("x", "y", "resize_source"),
          {"destination": "destination", "source": "source", "x": "x", "y": "y", "mask": "mask",
           "resize_source": "resize_source"}, ("image",)),
    # mask
    Entry("InvertMask", "mask.invert", (), {"mask": "mask"}, ("mask",)),
    Entry("MaskToImage", "mask.to_image", (), {"mask": "mask"}, ("image",)),
    Entry("ImageToMask", "mask.from_image", ("channel",), {"image": "image", "channel": "channel"}, ("mask",),
          values=convert.image_to_mask_channel),
    Entry("ImageBlend", "image.blend", ("blend_factor", "blend_mode"),
          same("image1", "image2", "blend_factor", "blend_mode"), ("image",)),
    Entry("ColorTransfer", "image.color_transfer", ("method", "source_stats", "strength"),
          same("image_target", "image_ref", "method", "source_stats", "strength")
          | {"source_stats.target_index": "target_index"}, ("image",),
          variants=("source_stats", {"per_frame": (), "uniform": (), "target_frame": ("source_stats.target_index",)})),
    Entry("ThresholdMask", "mask.threshold", ("value",), {"mask": "mask", "value": "threshold"}, ("mask",),
          fixed={"inclusive": False}, export=convert.threshold_export),
)
