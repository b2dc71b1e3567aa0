"""What a ComfyUI user calls a node: the class name and the display name on it, per NodeFlow type.

The editor's node search matches these (a ComfyUI user types "KSampler" or "Load Checkpoint"), read
from the class map, the one list of which NodeFlow node stands for which class.
"""

from __future__ import annotations

from collections.abc import Mapping

from nodeflow.interop.comfyui.classmap import ENTRIES

#: ComfyUI's display names (its `NODE_DISPLAY_NAME_MAPPINGS`; FORMATS.md section 7) where they are
#: not the class name: what a ComfyUI user reads on the node and types into the search box.
DISPLAY_NAMES: Mapping[str, str] = {
    "CheckpointLoaderSimple": "Load Checkpoint", "CLIPTextEncode": "CLIP Text Encode (Prompt)",
    "EmptyLatentImage": "Empty Latent Image", "KSamplerAdvanced": "KSampler (Advanced)",
    "VAEDecode": "VAE Decode", "VAEEncode": "VAE Encode", "VAEEncodeForInpaint": "VAE Encode (for Inpainting)",
    "VAEDecodeTiled": "VAE Decode (Tiled)", "VAEEncodeTiled": "VAE Encode (Tiled)",
    "SetLatentNoiseMask": "Set Latent Noise Mask", "LoadImage": "Load Image", "SaveImage": "Save Image",
    "PreviewImage": "Preview Image", "LoraLoader": "Load LoRA", "LatentUpscale": "Upscale Latent",
    "LatentUpscaleBy": "Upscale Latent By", "ImageScale": "Upscale Image", "ImageScaleBy": "Upscale Image By",
    "ImageInvert": "Invert Image", "ImageToMask": "Convert Image to Mask", "MaskToImage": "Convert Mask to Image",
    "CLIPSetLastLayer": "CLIP Set Last Layer", "ConditioningCombine": "Conditioning (Combine)",
    "ConditioningSetArea": "Conditioning (Set Area)", "ConditioningAverage": "Conditioning (Average)",
    "ConditioningConcat": "Conditioning (Concat)", "ConditioningSetMask": "Conditioning (Set Mask)",
    "VAELoader": "Load VAE", "CLIPLoader": "Load CLIP", "UNETLoader": "Load Diffusion Model",
    "UnetLoaderGGUF": "Unet Loader (GGUF)", "CLIPLoaderGGUF": "CLIPLoader (GGUF)",
    "DualCLIPLoaderGGUF": "DualCLIPLoader (GGUF)", "TripleCLIPLoaderGGUF": "TripleCLIPLoader (GGUF)",
    "ControlNetLoader": "Load ControlNet Model", "ControlNetApplyAdvanced": "Apply ControlNet",
    "ControlNetApply": "Apply ControlNet (OLD)", "UpscaleModelLoader": "Load Upscale Model",
    "ImageUpscaleWithModel": "Upscale Image (using Model)", "ImagePadForOutpaint": "Pad Image for Outpainting",
    "ImageBatch": "Batch Images", "LatentFromBatch": "Latent From Batch", "RepeatLatentBatch": "Repeat Latent Batch",
}


def comfy_names() -> dict[str, tuple[str, ...]]:
    """NodeFlow type id -> the ComfyUI class and display names it stands for, in class-map order:
    the aliases the editor's node search matches (a ComfyUI user types "KSampler")."""
    names: dict[str, list[str]] = {}
    for entry in ENTRIES:
        found = names.setdefault(entry.node, [])
        for name in (entry.comfy, DISPLAY_NAMES.get(entry.comfy)):
            if name and name not in found:
                found.append(name)
    return {node: tuple(found) for node, found in names.items()}
