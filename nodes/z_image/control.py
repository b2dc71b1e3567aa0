"""Z-Image's ControlNet union, in ComfyUI's vocabulary: Load Model Patch (ModelPatchLoader) and Model
Patch ControlNet (QwenImageDiffsynthControlnet).

Z-Image-Turbo-Fun-Controlnet-Union (alibaba-pai; ComfyUI's model_patches folder) is diffusers'
ZImageControlNetModel in its own key names: control blocks beside some of the transformer's layers
(every 5th of 30 in the published file), a patch embedder for the control latents and a noise refiner,
reading the transformer's own embedders and rotary table. The control picture is encoded by the VAE
(the posterior mean, shifted and scaled as latents are) and each control block's output, times strength,
is added to the hidden states of its layer, as ZImageControlNetPipeline and ComfyUI do. The transformer
side is `nodes.z_image._control`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import FLOAT, IMAGE, MASK, MODEL, MODEL_PATCH, STRING, VAE
from nodes.models._single_file import file_weights, load_file

_EMBEDDER = "control_all_x_embedder.2-1.weight"


@dataclasses.dataclass(eq=False)
class ZImageControl:
    """A Z-Image ControlNet bound to one control picture: `net` (ZImageControlNetModel), the picture's
    latents [B, C, 1, h, w], the transformer layers its blocks feed (`places`) and strength."""

    net: Any
    latents: Any
    places: tuple[int, ...]
    strength: float


def _count(state: Mapping[str, Any], prefix: str) -> int:
    return len({k[len(prefix):].split(".", 1)[0] for k in state if k.startswith(prefix)})


def load_z_image_control(path: Path, dtype: Any, place: str) -> Any:
    """ZImageControlNetModel from a Fun union ControlNet file, its sizes read off the tensors; its
    blocks' layers are set when it is applied to a transformer (`ModelPatchControlNet`)."""
    from diffusers import ZImageControlNetModel

    from nodes.models._family_loader import ready
    from nodes.models._quantized import load_into, read_state_dict

    state = read_state_dict(path, "name")
    if _EMBEDDER not in state or "control_layers.0.attention.norm_q.weight" not in state:
        raise NodeError(f"{path.name} is not a Z-Image Fun ControlNet (no {_EMBEDDER} / control_layers weights)",
                        "name")
    dim, features = state[_EMBEDDER].shape
    if "control_noise_refiner.0.before_proj.weight" in state or features != 64:
        raise NodeError(f"{path.name} is a Z-Image Fun ControlNet Union 2.x (inpainting channels); NodeFlow loads "
                        "the first union ControlNet", "name")
    head_dim = state["control_layers.0.attention.norm_q.weight"].shape[0]
    blocks = _count(state, "control_layers.")
    net = ZImageControlNetModel(
        control_layers_places=list(range(blocks)), control_in_dim=features // 4, dim=int(dim),
        n_refiner_layers=_count(state, "control_noise_refiner."), n_heads=int(dim) // head_dim,
        n_kv_heads=state["control_layers.0.attention.to_k.weight"].shape[0] // head_dim)
    load_into(net, state, dtype, "name")
    return ready(net.eval(), place)


class LoadModelPatch(Node):
    type_id = "models.load_model_patch"
    title = "Load Model Patch"
    category = "models"
    description = ("Loads a model patch from the model_patches folder: the Z-Image Fun union ControlNet "
                   "(Z-Image-Turbo-Fun-Controlnet-Union.safetensors), for Model Patch ControlNet.")
    inputs = (Input("name", STRING, default="", file="file", model="model_patches"),)
    outputs = (Output("model_patch", MODEL_PATCH),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        return file_weights(params, resolve, "name", "model_patch", "model_patch")

    def run(self, ctx: RunContext, name: str) -> tuple[Any]:
        return (load_file(ctx, type(self), "name", name, "model patch", load_z_image_control),)


class ModelPatchControlNet(Node):
    type_id = "z_image.model_patch_controlnet"
    title = "Model Patch ControlNet"
    category = "conditioning/controlnet"
    description = ("Guides a Z-Image model with a control picture (edges, depth, pose...) through the Fun union "
                   "ControlNet of Load Model Patch: the picture is encoded by the VAE and the ControlNet's "
                   "blocks add to the transformer's layers, times strength. The picture must be the size "
                   "of the latent being sampled.")
    inputs = (
        Input("model", MODEL),
        Input("model_patch", MODEL_PATCH),
        Input("vae", VAE),
        Input("image", IMAGE),
        Input("strength", FLOAT, default=1.0, min=-10.0, max=10.0, step=0.01,
              help="How strongly the control picture guides (ZImageControlNetPipeline's "
                   "controlnet_conditioning_scale)."),
        Input("mask", MASK, optional=True,
              help="For inpainting ControlNets (Union 2.x), which NodeFlow does not load; leave unconnected."),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, model_patch: Any, vae: Any, image: Any, strength: float = 1.0,
            mask: Any = None) -> tuple[Any]:
        from diffusers import ZImageControlNetModel

        from nodes.vae.codec import encode

        if model.family != "z-image":
            title = model.spec.title if model.spec is not None else "this UNet"
            raise NodeError(f"{title} takes no Z-Image ControlNet (a Z-Image model does)", "model")
        if not isinstance(model_patch, ZImageControlNetModel):
            raise NodeError("this model patch is not a Z-Image Fun ControlNet", "model_patch")
        if mask is not None:
            raise NodeError("a mask is for the inpainting union ControlNets (2.x), which NodeFlow does not load",
                            "mask")
        layers = int(model.unet.config.n_layers)
        blocks = len(model_patch.control_layers)
        if int(model.unet.config.dim) != int(model_patch.config.dim) or blocks > layers:
            raise NodeError(f"this ControlNet ({model_patch.config.dim} wide, {blocks} blocks) does not fit the "
                            f"transformer ({model.unet.config.dim} wide, {layers} layers)", "model_patch")
        latents = encode(ctx, image, vae)["samples"].unsqueeze(2)
        step = layers // blocks
        control = ZImageControl(model_patch, latents, tuple(range(0, step * blocks, step)), float(strength))
        return (dataclasses.replace(model, control=control),)
