"""Model patches (ComfyUI's model_patches folder), in ComfyUI's vocabulary: Load Model Patch
(ModelPatchLoader) and Model Patch ControlNet (QwenImageDiffsynthControlnet).

Two kinds load, each told apart by a key only its files have, as ComfyUI tells them apart:
Z-Image's Fun union ControlNet (`nodes.z_image._control`) and Qwen-Image's DiffSynth block-wise
ControlNets, canny, depth and inpaint (`nodes.qwen_image._control`). `PATCHES` declares them: the
marker key, the family whose transformer the patch steers, and the helper that loads and binds it.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import FLOAT, IMAGE, MASK, MODEL, MODEL_PATCH, STRING, VAE
from nodes.models._single_file import file_weights, load_file


@dataclasses.dataclass(frozen=True)
class PatchKind:
    """One kind of model patch: `helper` has `MARKER`, `load(name, state, dtype, place)`, `accepts(patch)`
    and `bind(model, patch, encode, strength, mask)`: the patch with its picture's latents (`encode()`, the
    VAE Encode of the picture), for `Model.control`."""

    title: str
    family: str
    helper: str

    def module(self) -> Any:
        return importlib.import_module(self.helper)


PATCHES = (
    PatchKind("Z-Image Fun ControlNet", "z-image", "nodes.z_image._control"),
    PatchKind("Qwen-Image DiffSynth ControlNet", "qwen-image", "nodes.qwen_image._control"),
)


def load_model_patch(path: Path, dtype: Any, place: str) -> Any:
    """The patch a file holds, loaded as the kind whose marker key it has."""
    from nodes.models._quantized import read_state_dict

    state = read_state_dict(path, "name")
    for kind in PATCHES:
        module = kind.module()
        if module.MARKER in state:
            return module.load(path.name, state, dtype, place)
    known = " or ".join(k.title for k in PATCHES)
    raise NodeError(f"{path.name} is not a model patch NodeFlow loads (a {known})", "name")


class LoadModelPatch(Node):
    type_id = "models.load_model_patch"
    title = "Load Model Patch"
    category = "models"
    description = ("Loads a model patch from the model_patches folder, for Model Patch ControlNet: the Z-Image Fun "
                   "union ControlNet (Z-Image-Turbo-Fun-Controlnet-Union) or a Qwen-Image DiffSynth ControlNet "
                   "(qwen_image_canny / depth / inpaint_diffsynth_controlnet).")
    inputs = (Input("name", STRING, default="", file="file", model="model_patches"),)
    outputs = (Output("model_patch", MODEL_PATCH),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        return file_weights(params, resolve, "name", "model_patch", "model_patch")

    def run(self, ctx: RunContext, name: str) -> tuple[Any]:
        return (load_file(ctx, type(self), "name", name, "model patch", load_model_patch),)


class ModelPatchControlNet(Node):
    type_id = "conditioning.model_patch_controlnet"
    legacy_ids = ("z_image.model_patch_controlnet",)
    title = "Model Patch ControlNet"
    category = "conditioning/controlnet"
    description = ("Guides a model with a control picture (edges, depth, pose...) through the ControlNet of Load "
                   "Model Patch (Z-Image's Fun union ControlNet, Qwen-Image's DiffSynth ControlNets): the picture "
                   "is encoded by the VAE and the ControlNet's blocks add to the transformer's layers, times "
                   "strength. The picture must be the size of the latent being sampled.")
    inputs = (
        Input("model", MODEL),
        Input("model_patch", MODEL_PATCH),
        Input("vae", VAE),
        Input("image", IMAGE),
        Input("strength", FLOAT, default=1.0, min=-10.0, max=10.0, step=0.01,
              help="How strongly the control picture guides (the pipelines' controlnet_conditioning_scale)."),
        Input("mask", MASK, optional=True,
              help="For Qwen-Image's DiffSynth inpaint ControlNet: 1 where the picture is repainted. The others "
                   "take none; leave unconnected."),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, model_patch: Any, vae: Any, image: Any, strength: float = 1.0,
            mask: Any = None) -> tuple[Any]:
        kind = next((k for k in PATCHES if k.module().accepts(model_patch)), None)
        if kind is None:
            raise NodeError("this is not a model patch from Load Model Patch", "model_patch")
        if model.family != kind.family:
            title = model.spec.title if model.spec is not None else "this UNet"
            raise NodeError(f"{title} takes no {kind.title} (a {kind.family} model does)", "model")
        from nodes.vae.codec import encode

        control = kind.module().bind(model, model_patch, lambda: encode(ctx, image, vae)["samples"], float(strength),
                                     mask)
        return (dataclasses.replace(model, control=control),)
