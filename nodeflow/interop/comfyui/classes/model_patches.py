"""Model patches (ComfyUI's model_patches folder): Load Model Patch and the ControlNet it feeds for
Z-Image, the Fun union ControlNet (`nodes.z_image.control`).

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


def model_patch_values(params: dict[str, Any], notes: convert.Notes) -> dict[str, Any]:
    """Only Z-Image's Fun ControlNets map: the other model patches ComfyUI loads from that folder (Qwen-Image's
    DiffSynth ControlNets, USO's projector, InfiniteTalk, Anima's LLLite...) stay unmapped instead of
    importing as a loader that refuses their files."""
    name = str(params.get("name", "")).replace("\\", "/").rsplit("/", 1)[-1].lower()
    if not name.startswith(Z_IMAGE_PATCHES):
        raise convert.Unmappable(f"name '{params.get('name')}': NodeFlow loads Z-Image's Fun ControlNets only "
                                 "from model_patches")
    return params


MODEL_PATCHES: tuple[Entry, ...] = (
    Entry("ModelPatchLoader", "models.load_model_patch", ("name",), same("name"), ("model_patch",),
          values=model_patch_values),
    Entry("QwenImageDiffsynthControlnet", "z_image.model_patch_controlnet", ("strength",),
          same("model", "model_patch", "vae", "image", "strength", "mask"), ("model",)),
)
