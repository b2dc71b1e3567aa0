"""Z-Image's Fun union ControlNet (Z-Image-Turbo-Fun-Controlnet-Union, alibaba-pai; ComfyUI's
model_patches folder), loaded and applied by the model-patch nodes (`nodes.models.model_patch`).

The file is diffusers' ZImageControlNetModel in its own key names: control blocks beside some of the
transformer's layers (every 5th of 30 in the published file), a patch embedder for the control latents
and a noise refiner, reading the transformer's own embedders and rotary table. The control picture is
encoded by the VAE (the posterior mean, shifted and scaled as latents are) and each control block's
output, times strength, is added to the hidden states of its layer, as ZImageControlNetPipeline and
ComfyUI do: `block_samples` computes them before each transformer call.

The ControlNet reads the transformer's own embedders, refiners and rotary table (diffusers'
`ZImageControlNetModel.from_transformer`); they are lent for the call only, so the stored ControlNet
keeps no hold on a transformer the memory manager may free.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from nodeflow.core import NodeError

#: A key only Z-Image's Fun ControlNets have.
MARKER = "control_all_x_embedder.2-1.weight"
_SHARED = ("t_embedder", "all_x_embedder", "cap_embedder", "noise_refiner", "context_refiner")
_VALUES = ("t_scale", "rope_embedder", "x_pad_token", "cap_pad_token")


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


def load(name: str, state: Mapping[str, Any], dtype: Any, place: str) -> Any:
    """ZImageControlNetModel from a Fun union ControlNet file, its sizes read off the tensors; its
    blocks' layers are set when it is bound to a transformer (`bind`)."""
    from diffusers import ZImageControlNetModel

    from nodes.models._family_loader import ready
    from nodes.models._quantized import load_into

    if "control_layers.0.attention.norm_q.weight" not in state:
        raise NodeError(f"{name} is not a Z-Image Fun ControlNet (no control_layers weights)", "name")
    dim, features = state[MARKER].shape
    if "control_noise_refiner.0.before_proj.weight" in state or features != 64:
        raise NodeError(f"{name} is a Z-Image Fun ControlNet Union 2.x (inpainting channels); NodeFlow loads "
                        "the first union ControlNet", "name")
    head_dim = state["control_layers.0.attention.norm_q.weight"].shape[0]
    blocks = _count(state, "control_layers.")
    net = ZImageControlNetModel(
        control_layers_places=list(range(blocks)), control_in_dim=features // 4, dim=int(dim),
        n_refiner_layers=_count(state, "control_noise_refiner."), n_heads=int(dim) // head_dim,
        n_kv_heads=state["control_layers.0.attention.to_k.weight"].shape[0] // head_dim)
    load_into(net, dict(state), dtype, "name")
    return ready(net.eval(), place)


def accepts(patch: Any) -> bool:
    from diffusers import ZImageControlNetModel

    return isinstance(patch, ZImageControlNetModel)


def bind(model: Any, net: Any, encode: Any, strength: float, mask: Any) -> ZImageControl:
    """The ControlNet with its picture's latents (`encode()`: the VAE's, called once the inputs are checked)
    and the layers its blocks feed (every n_layers / blocks-th)."""
    if mask is not None:
        raise NodeError("a mask is for the inpainting union ControlNets (2.x), which NodeFlow does not load",
                        "mask")
    layers = int(model.unet.config.n_layers)
    blocks = len(net.control_layers)
    if int(model.unet.config.dim) != int(net.config.dim) or blocks > layers:
        raise NodeError(f"this ControlNet ({net.config.dim} wide, {blocks} blocks) does not fit the "
                        f"transformer ({model.unet.config.dim} wide, {layers} layers)", "model_patch")
    latents = encode().unsqueeze(2)
    step = layers // blocks
    return ZImageControl(net, latents, tuple(range(0, step * blocks, step)), float(strength))


@contextlib.contextmanager
def _lent(net: Any, transformer: Any) -> Iterator[None]:
    from diffusers import ZImageControlNetModel

    ZImageControlNetModel.from_transformer(net, transformer)
    try:
        yield
    finally:
        for name in _SHARED + _VALUES:
            setattr(net, name, None)


def block_samples(model: Any, pictures: list[Any], timestep: Any, captions: list[Any]) -> dict[int, Any] | None:
    """The hidden states to add at each fed transformer layer (None without a ControlNet)."""
    control = model.control
    if control is None:
        return None
    net = control.net
    parameter = next(net.control_layers.parameters())
    latents = control.latents.to(device=parameter.device, dtype=parameter.dtype)
    context = [latents[i % latents.shape[0]] for i in range(len(pictures))]
    with _lent(net, model.unet):
        samples = net(pictures, timestep, captions, context, conditioning_scale=control.strength)
    return {control.places[index]: sample for index, sample in samples.items()}
