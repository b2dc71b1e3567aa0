"""Model patches (ComfyUI's model_patches folder): Load Model Patch and the ControlNet it feeds
(`nodes.models.model_patch`): Z-Image's Fun union ControlNet and Qwen-Image's DiffSynth ControlNets.

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`. Widget
orders are read off ComfyUI's comfy_extras/nodes_model_patch.py (ModelPatchLoader: name;
QwenImageDiffsynthControlnet: strength, after its model, model_patch, vae, image and optional mask sockets).
"""

from __future__ import annotations

from typing import Any

from nodeflow.interop.comfyui import convert
from nodeflow.interop.comfyui.classes.entry import Entry, same

#: The names Z-Image's Fun ControlNets are published under (alibaba-pai's Z-Image-Turbo-Fun-Controlnet-*).
Z_IMAGE_PATCHES = ("z-image", "z_image")


def loads(name: str) -> bool:
    """Whether NodeFlow loads the model patch a file name stands for: Z-Image's Fun ControlNets, and
    Qwen-Image's DiffSynth ControlNets (Comfy-Org's qwen_image_{canny,depth,inpaint}_diffsynth_controlnet)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name.startswith(Z_IMAGE_PATCHES) or (name.startswith("qwen") and "diffsynth" in name)


def model_patch_values(params: dict[str, Any], notes: convert.Notes) -> dict[str, Any]:
    """Only the patches NodeFlow loads map: the others ComfyUI loads from that folder (USO's projector,
    InfiniteTalk, Anima's LLLite, Qwen Image 2.1's Fun ControlNet...) stay unmapped instead of importing as
    a loader that refuses their files."""
    if not loads(str(params.get("name", ""))):
        raise convert.Unmappable(f"name '{params.get('name')}': NodeFlow loads Z-Image's Fun ControlNets and "
                                 "Qwen-Image's DiffSynth ControlNets only from model_patches")
    return params


MODEL_PATCHES: tuple[Entry, ...] = (
    Entry("ModelPatchLoader", "models.load_model_patch", ("name",), same("name"), ("model_patch",),
          values=model_patch_values),
    Entry("QwenImageDiffsynthControlnet", "conditioning.model_patch_controlnet", ("strength",),
          same("model", "model_patch", "vae", "image", "strength", "mask"), ("model",)),
)
